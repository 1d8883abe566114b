"""Erasure on a data subject's request: personal data goes, a tombstone stays, all audited.

The erasure's audit entry records why (``reason``, and a staff ``note`` if given); an erasure
asked for without a reason is recorded as ``unstated``.

Done when it answers: :mod:`intake_core.erasure` erases it as the retention job does (the
store's transaction, then the read cache, the embedded queue and what the engine kept on disk).
A failure after the transaction answers 503, and erasing again (idempotent) finishes the job: so
does a read cache that could not drop the record's copy, once the other steps are done. One
nobody sends again is finished by the retention job's next run, which drops the copies of every
recent erasure again.
"""

from __future__ import annotations

from admin_api.audit_log import StaffRequest
from admin_api.context import AdminContext
from admin_api.schemas import ErasureRequest
from intake_core.domain.audit import AuditAction
from intake_core.domain.erasure import NOT_STATED, erasure_details
from intake_core.erasure import Erasure
from intake_core.ports.cache import CacheUnavailable
from intake_core.ports.staff import StoredRecord


async def erase_submission(
    context: AdminContext,
    client_id: str,
    staff: StaffRequest,
    grounds: ErasureRequest | None = None,
) -> StoredRecord:
    """Idempotent: erasing an erased record answers its tombstone (and is audited again, with
    the reason given this time)."""
    details = grounds.audit_details() if grounds else erasure_details(NOT_STATED)
    erasure = Erasure(context.store, context.queue, context.cache)
    erased = await erasure.erase(staff.entry(AuditAction.ERASE, client_id, details))
    await erasure.finish()
    if erasure.copies_left:
        # Staff are told to send it again: the answer means "gone everywhere", and it is not yet.
        raise CacheUnavailable("the erased record's cached copy may still be there")
    return erased
