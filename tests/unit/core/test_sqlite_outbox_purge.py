"""The embedded store purges outbox events published more than a week ago, as Cosmos DB's ttl
does: their payload repeats the contact details. Times are set in the file itself."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.events import submission_created
from intake_core.ports import AuditEntry
from support import make_submission

NOW = datetime.now(UTC)


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
