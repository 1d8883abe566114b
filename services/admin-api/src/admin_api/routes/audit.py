"""The audit trail as a whole: is it intact?"""

from __future__ import annotations

from fastapi import APIRouter

from admin_api import reading
from admin_api.deps import StoreDep
from admin_api.openapi import STAFF_PROBLEMS
from admin_api.schemas import AuditChainCheck
from admin_api.staff import AuditReader

router = APIRouter(tags=["audit"], responses=STAFF_PROBLEMS)


@router.get("/v1/audit/verify", response_model=AuditChainCheck)
async def verify_audit_chain(staff: AuditReader, store: StoreDep) -> AuditChainCheck:
    """Recomputes every entry's hash and link. ``intact: false`` names the first broken entry:
    changed, deleted or slipped-in entries all break the chain there."""
    return await reading.verify_audit_chain(store, staff)
