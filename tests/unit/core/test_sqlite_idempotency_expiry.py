"""The embedded store forgets an Idempotency-Key a week after its first use, as Cosmos DB's
container TTL does: its fingerprint could confirm a guessed body. A retry after that is a new
submission, in both stores."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_core.adapters.sqlite_store import SCHEMA, SqliteSubmissionStore
from intake_core.domain.events import submission_created
from intake_core.ports import (
    IDEMPOTENCY_KEY_TTL_SECONDS,
    AuditEntry,
    Idempotency,
    PurgedItems,
    SaveResult,
)
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
