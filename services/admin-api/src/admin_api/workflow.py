"""The status workflow (``received → contacted → qualified → won|lost``) with optimistic
concurrency: a change applies only to the version it was decided on. Once the store has it,
the record's cached copy and the cached figures are dropped; if the cache cannot be reached,
the change still stands and the stale copies (no new personal data in them) expire at their
TTL."""

from __future__ import annotations

import logging

from admin_api.audit_log import StaffRequest
from admin_api.context import AdminContext
from admin_api.problems import Conflict, PreconditionFailed
from intake_core.domain.audit import AuditAction
from intake_core.domain.models import Status, Submission, can_transition
from intake_core.ports.cache import CacheUnavailable
from intake_core.ports.staff import StoredRecord, SubmissionNotFound, VersionConflict

logger = logging.getLogger(__name__)

# Without If-Match, a change that lost a race is decided again on the fresh record, a few times.
ATTEMPTS = 3


def etag(version: str) -> str:
    return f'"{version}"'


def if_match_allows(header: str, version: str) -> bool:
    """RFC 9110 If-Match: ``*`` or a list of entity tags (weak ones compared by their value)."""
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags:
        return True
    return any(tag.removeprefix("W/") == etag(version) for tag in tags)


async def change_status(
    context: AdminContext,
    client_id: str,
    new_status: Status,
    if_match: str | None,
    staff: StaffRequest,
) -> StoredRecord:
    store = context.store
    for _ in range(ATTEMPTS):
        stored = await store.get_record(client_id)
        if stored is None:
            raise SubmissionNotFound(client_id)
        if if_match is not None and not if_match_allows(if_match, stored.version):
            raise PreconditionFailed("The record changed since you read it; reload it first.")
        record = stored.record
        if not isinstance(record, Submission):
            raise Conflict("This submission was erased; its status can no longer change.")
        if not can_transition(record.status, new_status):
            raise Conflict(f"A submission cannot go from {record.status} to {new_status}.")
        audit = staff.entry(
            AuditAction.STATUS_CHANGE,
            client_id,
            {"from": record.status.value, "to": new_status.value},
        )
        try:
            changed = await store.update_status(client_id, new_status, stored.version, audit)
        except VersionConflict:
            if if_match is not None:
                raise PreconditionFailed(
                    "The record changed since you read it; reload it first."
                ) from None
            continue
        try:
            await context.records.forget(client_id)
        except CacheUnavailable as error:
            logger.error("status changed, cached copy not dropped: %s", error)
        await context.figures.forget()
        return changed
    raise Conflict("The record is changing too often right now; try again.")
