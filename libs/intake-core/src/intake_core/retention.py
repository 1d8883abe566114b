"""Retention: records older than the configured age are anonymised (erased to a tombstone).

Each record is erased in its own transaction with its own audit entry (actor
``system:retention``), by the same workflow as a staff erasure (:mod:`intake_core.erasure`), so a
run can stop anywhere and the next run picks up where it left off. Records are taken oldest
first, a batch at a time, so memory stays flat however many are due. Then it purges the dead
letters that must not be kept (those of erased records, and any older than
``DEAD_LETTER_MAX_AGE_DAYS``; one naming a record the store does not have is kept until then,
as it may be all that is left of a submission a restore lost; see
:mod:`intake_core.dead_letter_purge`): Service Bus keeps them for ever otherwise, and erasure
cannot reach them there. ``intake retention run`` and ``python -m admin_api.retention`` run it;
in Kubernetes it is a CronJob.

Before its own erasures, a run finishes those of the last two days (:data:`RECENT_ERASURES`),
its own and staff's alike: it drops their copies again (queue messages, cached copies, what the
engine kept on disk), which is harmless when they are gone, so an erasure that stopped after the
store's transaction is finished by the next run. Two days because the job runs daily: a run that
failed or was skipped is still covered by the one after. Older erasures need nothing more: a
cached copy lives ``CACHE_TTL_SECONDS`` at most, the notifier skips a queued message of an
erased record, and every run removes the dead letters of erased records whatever their age. A
fixed window rather than "since the last run" because the store keeps no record of runs (one that
erased nothing leaves no trace).

A read cache that cannot be reached does not stop a run (the store's erasure is the
commitment): the report counts the records whose cached copy may have outlived their erasure
(``cached_copies_left``), and the command then exits 1, so the CronJob shows it failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import Field

from intake_core.bootstrap import open_cache, open_dead_letter_queue, open_queue, open_store
from intake_core.dead_letter_purge import purge_dead_letters
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.erasure import (
    RETENTION_ACTOR,
    RETENTION_ENDED,
    erasure_details,
)
from intake_core.erasure import Erasure
from intake_core.ports.cache import ReadCache
from intake_core.ports.lifetimes import DEAD_LETTER_MAX_AGE_DAYS
from intake_core.ports.queue import DeadLetterQueue, SubjectQueue
from intake_core.ports.staff import StaffSubmissionStore
from intake_core.settings import ReadCacheSettings

logger = logging.getLogger(__name__)


class RetentionSettings(ReadCacheSettings):
    """``RETENTION_DAYS`` (default 730, two years), ``RETENTION_BATCH_SIZE`` and
    ``DEAD_LETTER_MAX_AGE_DAYS`` (default and most 30, the notify ledger's lifetime)."""

    retention_days: int = Field(default=730, ge=1, le=36_500)
    retention_batch_size: int = Field(default=200, ge=1, le=10_000)
    dead_letter_max_age_days: int = Field(
        default=DEAD_LETTER_MAX_AGE_DAYS, ge=1, le=DEAD_LETTER_MAX_AGE_DAYS
    )


# How far back each run finishes erasures that stopped after the store's transaction (see the
# module docstring): two days, twice the schedule, so the run after a failed or skipped one
# still covers it.
RECENT_ERASURES = timedelta(days=2)


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    erased: int
    queue_messages_purged: int
    dead_letters_purged: int = 0
    # Records erased whose cached copy the read cache could not confirm dropped.
    cached_copies_left: int = 0
    # Records erased within RECENT_ERASURES before the run (by anyone) whose copies it dropped
    # again, and the queue messages it found of them: an erasure that had stopped halfway.
    recent_erasures_finished: int = 0
    leftover_queue_messages_purged: int = 0


async def apply_retention(
    store: StaffSubmissionStore,
    queue: SubjectQueue | None,
    *,
    cache: ReadCache | None = None,
    dead_letters: DeadLetterQueue | None = None,
    dead_letter_max_age_days: int = DEAD_LETTER_MAX_AGE_DAYS,
    days: int,
    batch_size: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RetentionReport:
    """Finish the recent erasures; erase every live record submitted more than ``days`` days
    ago; then, given the ``dead_letters`` queue, remove the dead letters that must not be kept."""
    now = clock()
    cutoff = now - timedelta(days=days)
    erasure = Erasure(store, queue, cache)
    finished = await finish_recent_erasures(erasure, since=now - RECENT_ERASURES)
    leftover_messages = erasure.queue_messages_purged
    await _erase_expired(erasure, cutoff, days, batch_size, clock)
    await erasure.finish()
    if erasure.copies_left:
        logger.error(
            "records erased, their cached copies not dropped (they expire at their TTL)",
            extra={"records": len(erasure.copies_left)},
        )
    dead_letters_purged = 0
    if dead_letters is not None:
        report = await purge_dead_letters(
            dead_letters,
            store,
            actor=RETENTION_ACTOR,
            max_age_days=dead_letter_max_age_days,
            clock=clock,
        )
        dead_letters_purged = len(report.purged)
    return RetentionReport(
        cutoff,
        erasure.erased,
        erasure.queue_messages_purged - leftover_messages,
        dead_letters_purged,
        len(erasure.copies_left),
        finished,
        leftover_messages,
    )


async def finish_recent_erasures(erasure: Erasure, since: datetime) -> int:
    """Drop again the copies of every record erased since ``since``, whoever erased it: a run
    of ours, admin-api or a reapply that stopped after the store's transaction left them (this
    job's next run only picks live records). Returns how many records."""
    recent = dict.fromkeys(erased.client_id for erased in await erasure.store.erasures_since(since))
    for client_id in recent:
        await erasure.drop_copies(client_id)
    if recent:
        logger.info("recent erasures finished", extra={"records": len(recent)})
    return len(recent)


async def _erase_expired(
    erasure: Erasure,
    cutoff: datetime,
    days: int,
    batch_size: int,
    clock: Callable[[], datetime],
) -> None:
    while batch := await erasure.store.expired_records(cutoff, batch_size):
        for client_id in batch:
            # The same action and details a staff erasure records: only actor and reason differ.
            details = {**erasure_details(RETENTION_ENDED), "retentionDays": str(days)}
            await erasure.erase(
                AuditEntry(AuditAction.ERASE, RETENTION_ACTOR, clock(), client_id, details)
            )
        logger.info("retention batch erased", extra={"erased": erasure.erased})


async def run_retention(settings: RetentionSettings) -> RetentionReport:
    """Open the adapters the settings name, apply retention once, close them."""
    store = await open_store(settings)
    try:
        # The embedded queue is one file: purged by subject and of its dead letters alike.
        # Service Bus cannot purge by subject; its dead letters are received and checked.
        queue = await open_queue(settings) if settings.bus == "local" else None
        dead_letters = queue if queue is not None else await open_dead_letter_queue(settings)
        cache = await open_cache(settings)
        try:
            return await apply_retention(
                store,
                queue,
                cache=cache,
                dead_letters=dead_letters,
                dead_letter_max_age_days=settings.dead_letter_max_age_days,
                days=settings.retention_days,
                batch_size=settings.retention_batch_size,
            )
        finally:
            await cache.close()
            await dead_letters.close()
    finally:
        await store.close()
