"""The notifier's ledger in the embedded store: a file of its own, next to the store's.

The contract tests hold what the ledger answers on every store; these hold where SQLite keeps
it. SQLite lets one connection write a file at a time: in the store's file, the notifier's
ledger writes waited for intake-api's writer, which under load holds the lock almost all the
time, and the notifier sent ~100 emails/s while 600 submissions/s came in.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from intake_core.adapters.sqlite_schema import ledger_path
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import submission_created
from support import make_submission


async def test_the_ledger_is_written_while_another_process_writes_the_store(tmp_path: Path):
    store = SqliteSubmissionStore(tmp_path / "intake.db", busy_timeout_seconds=0.2)
    await store.open()
    other_process = sqlite3.connect(tmp_path / "intake.db", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # holds the store file's write lock throughout
    try:
        assert await store.record_handled("event-1", "notify.sales-email")
        assert await store.was_handled("event-1", "notify.sales-email")
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
        await store.close()


async def test_a_service_that_keeps_no_ledger_creates_no_ledger_file(tmp_path: Path):
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    submission = make_submission()
    audit = AuditEntry("submission.created", "client", submission.submitted_at, "x")
    await store.save_new(submission, submission_created(submission), audit)
    await store.close()
    assert ledger_path(tmp_path / "intake.db") == tmp_path / "intake-ledger.db"
    assert not (tmp_path / "intake-ledger.db").exists()


async def test_a_ledger_kept_in_the_store_file_moves_to_its_own_file(tmp_path: Path):
    path = tmp_path / "intake.db"
    store = SqliteSubmissionStore(path)
    await store.open()
    await store.close()
    # As the earlier release left it: the ledger a table of the store's file.
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE handled_events (event_id TEXT NOT NULL, handler TEXT NOT NULL,"
            " handled_at TEXT NOT NULL, PRIMARY KEY (event_id, handler));"
            " INSERT INTO handled_events VALUES"
            " ('event-1', 'notify.sales-email', '2026-11-01T09:00:00.000000+00:00'),"
            " ('event-2', 'notify.sales-email', '2026-11-01T09:00:01.000000+00:00');"
        )
    connection.close()

    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        assert await store.was_handled("event-1", "notify.sales-email")
        assert await store.was_handled("event-2", "notify.sales-email")
        assert not await store.record_handled("event-1", "notify.sales-email")  # no second email
        assert await store.record_handled("event-3", "notify.sales-email")
    finally:
        await store.close()
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert "handled_events" not in tables
    with sqlite3.connect(ledger_path(path)) as connection:
        moved = connection.execute("SELECT event_id, handled_at FROM handled_events").fetchall()
    connection.close()
    assert sorted(moved)[:2] == [
        ("event-1", "2026-11-01T09:00:00.000000+00:00"),
        ("event-2", "2026-11-01T09:00:01.000000+00:00"),
    ]
    # Opened again, nothing is left to move and nothing moves twice.
    store = SqliteSubmissionStore(path)
    await store.open()
    await store.close()
