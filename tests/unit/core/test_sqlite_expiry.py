"""The embedded store forgets what Cosmos DB's TTL forgets (``purge_expired``): outbox events a
week after they are published (their payload repeats the contact details) and Idempotency-Keys a
week after their first use (a fingerprint could confirm a guessed body; a retry after that is a
new submission, in both stores); and the notifier's ledger forgets a handled event 30 days on
(``purge_expired_ledger``). Times are set in the files themselves."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_core.adapters.sqlite_schema import SCHEMA, ledger_path
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import submission_created
from intake_core.ports.intake import Idempotency, SaveResult
from intake_core.ports.lifetimes import IDEMPOTENCY_KEY_TTL_SECONDS
from intake_core.ports.outbox import PurgedItems
from support import make_submission

NOW = datetime.now(UTC)
TTL = timedelta(seconds=IDEMPOTENCY_KEY_TTL_SECONDS)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "intake.db"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[SqliteSubmissionStore]:
    store = SqliteSubmissionStore(path)
    await store.open()
    yield store
    await store.close()


async def _event(
    store: SqliteSubmissionStore,
    path: Path,
    *,
    created_days_ago: float,
    published_days_ago: float | None = None,
) -> str:
    """A saved event, created and (unless ``published_days_ago`` is None) published that many
    days ago; returns its id."""
    submission = make_submission(submitted_at=NOW - timedelta(days=created_days_ago))
    event = submission_created(submission)
    audit = AuditEntry("submission.created", "client", NOW, submission.client_id)
    await store.save_new(submission, event, audit)
    if published_days_ago is not None:
        await store.mark_published(event.id)
        published_at = (NOW - timedelta(days=published_days_ago)).isoformat(timespec="microseconds")
        with contextlib.closing(sqlite3.connect(path)) as connection, connection:
            connection.execute(
                "UPDATE outbox SET published_at = ? WHERE event_id = ?", (published_at, event.id)
            )
    return event.id


def _outbox(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT event_id FROM outbox")}


async def test_an_event_published_over_a_week_ago_is_purged(store, path) -> None:
    await _event(store, path, created_days_ago=8, published_days_ago=8)
    recent = await _event(store, path, created_days_ago=0, published_days_ago=0)

    assert (await store.purge_expired(NOW)).outbox_events == 1
    assert _outbox(path) == {recent}


async def test_an_event_published_within_the_week_stays(store, path) -> None:
    # Created long ago and published late (after a bus outage): its week counts from publishing.
    late = await _event(store, path, created_days_ago=20, published_days_ago=6)

    assert (await store.purge_expired(NOW)).outbox_events == 0
    assert _outbox(path) == {late}


async def test_an_unpublished_event_stays_however_old(store, path) -> None:
    owed = await _event(store, path, created_days_ago=30)
    await _event(store, path, created_days_ago=9, published_days_ago=8)

    assert (await store.purge_expired(NOW)).outbox_events == 1
    assert _outbox(path) == {owed}
    [claimed] = await store.claim_outbox("relay", limit=10, lease_seconds=60)
    assert claimed.event.id == owed


async def test_a_purge_takes_its_batches_one_transaction_each_until_none_is_left(
    store, path
) -> None:
    old = [await _event(store, path, created_days_ago=9, published_days_ago=8) for _ in range(20)]
    statements: list[str] = []
    await store._db.write(lambda c: c.set_trace_callback(statements.append))

    assert (await store.purge_expired(NOW, batch_size=7)).outbox_events == len(old)
    assert _outbox(path) == set()
    assert sum(s.lstrip().startswith("DELETE FROM outbox") for s in statements) == 3  # 7, 7, 6
    # A transaction each, and one more that finds no idempotency key to purge.
    assert statements.count("BEGIN IMMEDIATE") == 3 + 1


async def test_with_nothing_old_a_purge_reads_one_batch_of_rows(store, path) -> None:
    recent = [
        await _event(store, path, created_days_ago=1, published_days_ago=1) for _ in range(20)
    ]
    statements: list[str] = []
    await store._db.write(lambda c: c.set_trace_callback(statements.append))

    assert (await store.purge_expired(NOW, batch_size=7)).outbox_events == 0
    assert _outbox(path) == set(recent)
    assert sum(s.lstrip().startswith("DELETE FROM outbox") for s in statements) == 1


# Idempotency-Keys


async def _submit(store: SqliteSubmissionStore, key: str, *, at: datetime) -> SaveResult:
    """A submission sent at ``at`` with the Idempotency-Key ``key`` (and always the same body)."""
    submission = make_submission(submitted_at=at)
    audit = AuditEntry("submission.created", "client", at, submission.client_id)
    idempotency = Idempotency(key, "fingerprint of the same body")
    return await store.save_new(submission, submission_created(submission), audit, idempotency)


def _keys(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT key FROM idempotency")}


async def test_a_key_first_used_over_the_ttl_ago_is_purged_and_a_recent_one_stays(
    store, path
) -> None:
    await _submit(store, "old", at=NOW - TTL - timedelta(minutes=1))
    await _submit(store, "recent", at=NOW - TTL + timedelta(minutes=1))

    assert await store.purge_expired(NOW) == PurgedItems(outbox_events=0, idempotency_keys=1)
    assert _keys(path) == {"recent"}


async def test_after_its_key_is_purged_the_same_request_creates_a_new_record(store) -> None:
    """As in Cosmos DB once the key's TTL ran out: the key no longer joins the two requests."""
    first = await _submit(store, "retried late", at=NOW - TTL - timedelta(minutes=1))
    await store.purge_expired(NOW)

    again = await _submit(store, "retried late", at=NOW)
    assert again.created and again.client_id != first.client_id
    assert await store.get(first.client_id) is not None
    assert await store.get(again.client_id) is not None
    # And the new record's key answers retries again, for another week.
    retry = await _submit(store, "retried late", at=NOW)
    assert (retry.created, retry.client_id) == (False, again.client_id)


async def test_within_its_ttl_a_key_still_answers_with_the_first_record(store) -> None:
    first = await _submit(store, "kept", at=NOW - TTL + timedelta(minutes=1))
    await store.purge_expired(NOW)

    again = await _submit(store, "kept", at=NOW)
    assert (again.created, again.client_id) == (False, first.client_id)


async def test_a_purge_takes_old_keys_in_batches_one_transaction_each(store, path) -> None:
    for n in range(20):
        await _submit(store, f"old-{n}", at=NOW - TTL - timedelta(days=1, minutes=20 - n))
    await _submit(store, "recent", at=NOW)
    statements: list[str] = []
    await store._db.write(lambda c: c.set_trace_callback(statements.append))

    assert (await store.purge_expired(NOW, batch_size=7)).idempotency_keys == 20
    assert _keys(path) == {"recent"}
    deletes = [s for s in statements if s.lstrip().startswith("DELETE FROM idempotency")]
    assert len(deletes) == 3  # 7, 7, then 6 and the recent key, where the walk stops


async def test_with_no_old_key_a_purge_reads_one_batch_of_rows(store, path) -> None:
    for n in range(20):
        await _submit(store, f"recent-{n}", at=NOW - timedelta(days=1))
    statements: list[str] = []
    await store._db.write(lambda c: c.set_trace_callback(statements.append))

    assert (await store.purge_expired(NOW, batch_size=7)).idempotency_keys == 0
    assert len(_keys(path)) == 20
    assert sum(s.lstrip().startswith("DELETE FROM idempotency") for s in statements) == 1


def test_the_walk_needs_no_index_that_saving_would_keep_up(path) -> None:
    """Only the primary key's own index: a purge reads the table in rowid order."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(SCHEMA)
        indexes = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'idempotency'"
        ).fetchall()
    assert indexes == [("sqlite_autoindex_idempotency_1",)]


# The notify ledger


async def _handled(
    store: SqliteSubmissionStore, path: Path, event_id: str, *, days_ago: float
) -> None:
    """``event_id`` recorded as handled by the mailer that many days ago."""
    assert await store.record_handled(event_id, "mailer")
    handled_at = (NOW - timedelta(days=days_ago)).isoformat(timespec="microseconds")
    with contextlib.closing(sqlite3.connect(ledger_path(path))) as connection, connection:
        connection.execute(
            "UPDATE handled_events SET handled_at = ? WHERE event_id = ?", (handled_at, event_id)
        )


def _ledger(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(ledger_path(path))) as connection:
        return {row[0] for row in connection.execute("SELECT event_id FROM handled_events")}


async def _traced_ledger(store: SqliteSubmissionStore) -> list[str]:
    statements: list[str] = []
    ledger = await store._opened_ledger()
    await ledger.write(lambda c: c.set_trace_callback(statements.append))
    return statements


async def test_an_entry_handled_31_days_ago_is_purged_and_one_of_29_days_stays(store, path) -> None:
    await _handled(store, path, "old", days_ago=31)
    await _handled(store, path, "recent", days_ago=29)

    assert await store.purge_expired_ledger(NOW) == 1
    assert _ledger(path) == {"recent"}


async def test_a_purged_event_no_longer_counts_as_handled(store, path) -> None:
    await _handled(store, path, "old", days_ago=31)
    await _handled(store, path, "recent", days_ago=29)
    await store.purge_expired_ledger(NOW)

    assert not await store.was_handled("old", "mailer")
    assert await store.was_handled("recent", "mailer")


async def test_a_ledger_purge_takes_its_batches_one_transaction_each(store, path) -> None:
    for n in range(20):
        await _handled(store, path, f"old-{n}", days_ago=40 - n / 100)
    await _handled(store, path, "recent", days_ago=0)
    statements = await _traced_ledger(store)

    assert await store.purge_expired_ledger(NOW, batch_size=7) == 20
    assert _ledger(path) == {"recent"}
    assert sum(s.lstrip().startswith("DELETE FROM handled_events") for s in statements) == 3
    assert statements.count("BEGIN IMMEDIATE") == 3  # 7, 7, then 6 and the recent entry


async def test_with_no_old_entry_a_ledger_purge_reads_one_batch_of_rows(store, path) -> None:
    for n in range(20):
        await _handled(store, path, f"recent-{n}", days_ago=1)
    statements = await _traced_ledger(store)

    assert await store.purge_expired_ledger(NOW, batch_size=7) == 0
    assert len(_ledger(path)) == 20
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert sum(s.lstrip().startswith("DELETE FROM handled_events") for s in statements) == 1
