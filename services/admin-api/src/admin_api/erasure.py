"""Erasure on a data subject's request: personal data goes, a tombstone stays, all audited.

The erasure's audit entry records why (``reason``, and a staff ``note`` if given); an erasure
asked for without a reason is recorded as ``unstated``.

Done when it answers: the record, outbox, idempotency key and search index change in one store
transaction; then the record's copy leaves the read cache (with the cached figures, which
counted the record under its old status), the subject's messages leave the embedded queue, and
the store rewrites what the engine kept of the erased data on disk. A failure after the
transaction answers 503, and erasing again (idempotent) finishes the job.
"""

from __future__ import annotations

from admin_api import audit_log
from admin_api.audit_log import StaffRequest
from admin_api.figures_cache import FiguresCache
from admin_api.record_cache import RecordCache
from admin_api.schemas import ErasureRequest
from intake_core.domain.erasure import NOT_STATED, erasure_details
from intake_core.ports import StaffSubmissionStore, StoredRecord, SubjectQueue


async def erase_submission(
    store: StaffSubmissionStore,
    records: RecordCache,
    figures: FiguresCache,
    queue: SubjectQueue | None,
    client_id: str,
    staff: StaffRequest,
    grounds: ErasureRequest | None = None,
) -> StoredRecord:
    """Idempotent: erasing an erased record answers its tombstone (and is audited again, with
    the reason given this time)."""
    details = grounds.audit_details() if grounds else erasure_details(NOT_STATED)
    # The store first: once the outbox event is gone no relay can re-queue a message we purge.
    erased = await store.erase(client_id, staff.entry(audit_log.ERASE, client_id, details))
    # Right after the commit: from here on no reader can be served the personal data.
    await records.forget(client_id)
    await figures.forget()
    if queue is not None:
        await queue.purge_subject(client_id)
    await store.forget_erased_remnants()
    return erased
