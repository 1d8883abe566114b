"""Erasure on a data subject's request: personal data goes, a tombstone stays, all audited."""

from __future__ import annotations

from admin_api import audit_log
from admin_api.audit_log import StaffRequest
from intake_core.ports import StaffSubmissionStore, StoredRecord


async def erase_submission(
    store: StaffSubmissionStore, client_id: str, staff: StaffRequest
) -> StoredRecord:
    """Idempotent: erasing an erased record answers its tombstone (and is audited again)."""
    return await store.erase(client_id, staff.entry(audit_log.ERASE, client_id))
