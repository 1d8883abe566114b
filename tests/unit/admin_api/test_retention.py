"""Retention: records older than RETENTION_DAYS are erased in batches, audited as
``system:retention``; ``python -m admin_api.retention`` runs it from the environment."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission
from intake_core.retention import RETENTION_ACTOR, RetentionSettings, apply_retention
from support import VALID_BODY, make_submission

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture
async def store(tmp_path):
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def queue(tmp_path):
    queue = LocalQueue(tmp_path / "queue.db")
    await queue.open()
    yield queue
    await queue.close()


async def _save(store, age_days: float, email: str = "ada@example.com") -> Submission:
    body = copy.deepcopy(VALID_BODY)
    body["company"]["contact"]["email"] = email
    submission = make_submission(body, submitted_at=NOW - timedelta(days=age_days))
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, submission_created(submission), audit)
    return submission


async def test_old_records_are_erased_in_batches_and_new_ones_kept(store, queue):
    old = [await _save(store, 731 + n, email=f"old{n}@example.com") for n in range(5)]
    young = [await _save(store, 729), await _save(store, 1)]
    await queue.publish(submission_created(old[0]))
    await queue.publish(submission_created(young[0]))

    report = await apply_retention(store, queue, days=730, batch_size=2, clock=clock)

    assert report.erased == 5 and report.queue_messages_purged == 1
    assert report.cutoff == NOW - timedelta(days=730)
    for submission in old:
        stored = await store.get_record(submission.client_id)
        assert stored is not None and stored.erased
        [*_, erase] = await store.audit_trail(submission.client_id)
        assert erase.action == "submission.erase" and erase.actor == RETENTION_ACTOR
        assert erase.details == {"reason": "retention", "retentionDays": "730"}
        assert erase.at == NOW
    for submission in young:
        assert await store.get(submission.client_id) == submission
    assert await queue.depth() == 1
    assert (await store.verify_audit_chain()).intact
    again = await apply_retention(store, queue, days=730, batch_size=2, clock=clock)
    assert again.erased == 0  # a second run finds nothing more, and audits nothing


async def test_after_its_erasures_it_purges_the_dead_letters_that_must_not_be_kept(store, queue):
    """Service Bus keeps dead letters for ever and erasure cannot reach them there: the run
    removes those of the records it (or staff) erased, and those older than the limit."""

    due, young = await _save(store, 731), await _save(store, 2, email="young@example.com")
    stale = await _save(store, 31, email="stale@example.com")
    events = [submission_created(s) for s in (due, young, stale)]
    await queue.publish_batch(events)
    for delivery in await queue.receive(3, 0):
        await queue.dead_letter(delivery, "MaxDeliveryCountExceeded", "for the test")

    # Without the subject purge (Service Bus), only the dead-letter purge reaches them.
    report = await apply_retention(
        store, None, dead_letters=queue, days=730, batch_size=10, clock=clock
    )

    assert (report.erased, report.dead_letters_purged) == (1, 2)
    assert [letter.message_id for letter in await queue.dead_letters()] == [events[1].id]
    for submission, reason in ((due, "erased"), (stale, "expired")):
        [*_, entry] = await store.audit_trail(submission.client_id)
        assert (entry.action, entry.actor) == (AuditAction.DEAD_LETTER_PURGED, RETENTION_ACTOR)
        assert entry.details["reason"] == reason
    shorter = await apply_retention(
        store, None, dead_letters=queue, dead_letter_max_age_days=1, days=730, batch_size=10,
        clock=clock,
    )  # fmt: skip
    assert shorter.dead_letters_purged == 1 and await queue.dead_letters() == []


async def test_a_run_finishes_the_erasures_that_stopped_after_the_store(store, queue):
    """An erasure (the job's own, or staff's through admin-api) stopped after the store's
    transaction: its record is a tombstone, so no run erases it again, but its queue message and
    cached copies stayed. The next run drops them, and says so; an erasure older than the
    two days' window is left alone (its copies are long gone: TTL, notifier, dead-letter
    purge)."""
    from intake_core.adapters.memory_cache import MemoryReadCache
    from intake_core.erasure import cached_record_keys

    stopped_job = await _save(store, 731, email="job@example.com")
    stopped_staff = await _save(store, 3, email="staff@example.com")
    long_ago = await _save(store, 20, email="long@example.com")
    cache = MemoryReadCache(100)
    for submission, actor, at in (
        (stopped_job, RETENTION_ACTOR, NOW - timedelta(days=1)),
        (stopped_staff, "dpo@example.com", NOW - timedelta(hours=1)),
        (long_ago, "dpo@example.com", NOW - timedelta(days=3)),
    ):
        await queue.publish(submission_created(submission))
        for key in cached_record_keys(submission.client_id):
            await cache.set(key, b"a copy with personal data", 60)
        # The store's transaction only: the process stopped before the queue and the cache.
        entry = AuditEntry("submission.erase", actor, at, submission.client_id, {})
        await store.erase(submission.client_id, entry)

    report = await apply_retention(store, queue, cache=cache, days=730, batch_size=10, clock=clock)

    for submission in (stopped_job, stopped_staff):
        assert [await cache.get(k) for k in cached_record_keys(submission.client_id)] == [
            None,
            None,
        ]
    [left] = await queue.receive(10, 0)
    assert long_ago.client_id in left.body
    assert (report.erased, report.queue_messages_purged) == (0, 0)
    assert (report.recent_erasures_finished, report.leftover_queue_messages_purged) == (2, 2)
    for submission in (stopped_job, stopped_staff):  # finished, not erased or audited again
        assert len(await store.audit_trail(submission.client_id)) == 2


async def test_without_a_queue_only_the_store_is_touched(store):
    await _save(store, 10)
    report = await apply_retention(store, None, days=5, batch_size=100, clock=clock)
    assert report.erased == 1 and report.queue_messages_purged == 0


async def test_erased_records_leave_the_read_cache_and_so_do_the_figures(store):
    from intake_core.adapters.memory_cache import MemoryReadCache
    from intake_core.erasure import CACHED_FIGURES_GENERATION_KEY, cached_record_keys

    old, young = await _save(store, 40), await _save(store, 1)
    cache = MemoryReadCache(100)
    for submission in (old, young):
        for key in cached_record_keys(submission.client_id):
            await cache.set(key, b"a copy with personal data", 60)
    await cache.set(CACHED_FIGURES_GENERATION_KEY, b"figures counted before the run", 60)

    await apply_retention(store, None, cache=cache, days=30, batch_size=10, clock=clock)

    assert [await cache.get(k) for k in cached_record_keys(old.client_id)] == [None, None]
    assert None not in [await cache.get(k) for k in cached_record_keys(young.client_id)]
    assert await cache.get(CACHED_FIGURES_GENERATION_KEY) is None


async def test_a_cache_that_fails_stops_no_erasure_and_the_report_counts_the_copies_left(
    store, queue
):
    """The store's erasure is the commitment: every due record is still erased and its queue
    messages purged; the report says how many cached copies may have outlived their erasure."""
    from support.unreachable_cache import UnreachableCache

    due = [await _save(store, 40), await _save(store, 41, email="grace@example.com")]
    await queue.publish_batch([submission_created(s) for s in due])

    report = await apply_retention(
        store, queue, cache=UnreachableCache(), days=30, batch_size=10, clock=clock
    )

    assert (report.erased, report.queue_messages_purged, report.cached_copies_left) == (2, 2, 2)
    for submission in due:
        assert (await store.get_record(submission.client_id)).erased
    assert await queue.depth() == 0


async def test_a_run_with_nothing_to_erase_keeps_the_cached_figures(store):
    from intake_core.adapters.memory_cache import MemoryReadCache
    from intake_core.erasure import CACHED_FIGURES_GENERATION_KEY

    await _save(store, 1)
    cache = MemoryReadCache(100)
    await cache.set(CACHED_FIGURES_GENERATION_KEY, b"still true", 60)
    await apply_retention(store, None, cache=cache, days=30, batch_size=10, clock=clock)
    assert await cache.get(CACHED_FIGURES_GENERATION_KEY) == b"still true"


@pytest.mark.parametrize("days", ["0", "-1", "abc", "99999999"])
def test_nonsense_retention_settings_are_refused(days, monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", days)
    with pytest.raises(ValidationError):
        RetentionSettings()


@pytest.mark.parametrize("days", ["0", "31", "abc"])
def test_dead_letters_are_kept_at_most_as_long_as_the_notify_ledger(days, monkeypatch):
    assert RetentionSettings().dead_letter_max_age_days == 30
    monkeypatch.setenv("DEAD_LETTER_MAX_AGE_DAYS", days)
    with pytest.raises(ValidationError):
        RetentionSettings()


async def test_the_module_runs_retention_from_the_environment(tmp_path):
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    old = make_submission(submitted_at=datetime.now(UTC) - timedelta(days=40))
    new = make_submission()
    for submission in (old, new):
        audit = AuditEntry("c", "client", submission.submitted_at, submission.client_id)
        await store.save_new(submission, submission_created(submission), audit)
    await store.close()

    environment = {
        **os.environ,
        "INTAKE_DATA_DIR": str(tmp_path),
        "RETENTION_DAYS": "30",
        "ENVIRONMENT": "test",
    }
    completed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "admin_api.retention"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["erased"] == 1 and report["queueMessagesPurged"] == 0
    assert report["deadLettersPurged"] == 0

    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    try:
        assert (await store.get_record(old.client_id)).erased
        assert await store.get(new.client_id) == new
    finally:
        await store.close()
