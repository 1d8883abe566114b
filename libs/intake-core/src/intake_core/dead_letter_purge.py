"""Dead letters that must not be kept, removed: ``intake dlq purge`` and the retention job.

A dead letter holds its event's whole body (contact details, scope), and Service Bus keeps it
for ever. One goes at once when the record it names is erased (a tombstone), and any goes when
its event is older than the limit (:data:`DEAD_LETTER_MAX_AGE_DAYS` by default: after that a
replay could email twice). A body that is no CloudEvent names no record and has no event time:
it goes by the time the queue took it. Every other dead letter is left as it was, still
replayable.

One whose Client ID has no record in the store is kept until that limit too. After a
point-in-time restore of the store, the dead letters of the submissions made after the restore
point name records the restored store does not have, and they are what could recover those
submissions (their bodies are the whole submission): removing them at once would lose them for
good. Until the limit they hold no more than any other dead letter does.

Each removal is audited as retention audits its erasures, in the record's own trail: action
:attr:`AuditAction.DEAD_LETTER_PURGED`, the actor given (the retention job's, or
:data:`PURGE_ACTOR`), and the event id and why in the details; never the body. The entry is
written before the message is removed, so nothing goes unaudited: should the removal then not
happen (its lock expired, it was replayed meanwhile), the next run removes it and writes another.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.client_id import is_client_id, normalise_client_id
from intake_core.ports.lifetimes import DEAD_LETTER_MAX_AGE_DAYS
from intake_core.ports.queue import DeadLetter, DeadLetterQueue
from intake_core.ports.staff import StaffSubmissionStore

logger = logging.getLogger(__name__)

# The audit action of a removed dead letter, in the trail of the record it named.
# The actor of a purge an operator runs (``intake dlq purge``); the retention job's is its own.
PURGE_ACTOR = "system:dlq-purge"


class PurgeReason(StrEnum):
    ERASED = "erased"  # its record is a tombstone
    EXPIRED = "expired"  # older than the limit (a record the store does not have included)


@dataclass(frozen=True)
class PurgedDeadLetter:
    """What may be said of a removed dead letter: ids and why, never its body."""

    event_id: str
    client_id: str | None
    reason: PurgeReason


@dataclass(frozen=True)
class DeadLetterPurgeReport:
    examined: int
    purged: list[PurgedDeadLetter]
    dry_run: bool

    @property
    def kept(self) -> int:
        return self.examined - len(self.purged)


def _client_id_and_time(letter: DeadLetter) -> tuple[str | None, datetime]:
    """The Client ID its CloudEvent names (``subject``) and the event's time; without them (a
    poison message), no Client ID and the time the queue took it."""
    try:
        event = json.loads(letter.body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return None, letter.enqueued_at
    subject, time = event.get("subject"), event.get("time")
    client_id = (
        normalise_client_id(subject) if isinstance(subject, str) and is_client_id(subject) else None
    )
    try:
        at = datetime.fromisoformat(time) if isinstance(time, str) else letter.enqueued_at
    except ValueError:
        at = letter.enqueued_at
    return client_id, at if at.tzinfo else at.replace(tzinfo=UTC)


async def purge_dead_letters(
    queue: DeadLetterQueue,
    store: StaffSubmissionStore,
    *,
    actor: str,
    max_age_days: int = DEAD_LETTER_MAX_AGE_DAYS,
    dry_run: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeadLetterPurgeReport:
    """Remove the dead letters that must not be kept (with ``dry_run``, only say which)."""
    if not 1 <= max_age_days <= DEAD_LETTER_MAX_AGE_DAYS:
        raise ValueError(f"max_age_days must be 1 to {DEAD_LETTER_MAX_AGE_DAYS}")
    now = clock()
    cutoff = now - timedelta(days=max_age_days)
    examined = 0
    chosen: list[tuple[DeadLetter, PurgedDeadLetter]] = []

    async def verdict(client_id: str | None, at: datetime) -> PurgeReason | None:
        if client_id is not None:
            stored = await store.get_record(client_id)
            # No record (a submission after a restore point, say) is judged by age alone.
            if stored is not None and stored.erased:
                return PurgeReason.ERASED
        return PurgeReason.EXPIRED if at < cutoff else None

    async def doomed(letter: DeadLetter) -> bool:
        nonlocal examined
        examined += 1
        client_id, at = _client_id_and_time(letter)
        reason = await verdict(client_id, at)
        if reason is None:
            return False
        chosen.append((letter, PurgedDeadLetter(letter.message_id, client_id, reason)))
        if not dry_run:
            details = {"reason": str(reason), "eventId": letter.message_id}
            if reason is PurgeReason.EXPIRED:
                details["maxAgeDays"] = str(max_age_days)
            await store.append_audit(
                AuditEntry(AuditAction.DEAD_LETTER_PURGED, actor, now, client_id, details)
            )
        return True

    if dry_run:
        for letter in await queue.dead_letters():
            await doomed(letter)
        purged = [what for _, what in chosen]
    else:
        removed = await queue.purge_dead_letters(doomed)
        purged = [what for letter, what in chosen if letter in removed]
    report = DeadLetterPurgeReport(examined, purged, dry_run)
    logger.info(
        "dead letters purged" if not dry_run else "dead letters that a purge would remove",
        extra={"examined": examined, "purged": len(purged), "dryRun": dry_run},
    )
    return report
