"""New submissions saved together: one statement per table for the batch, the same rows as alone.

The contract tests hold the outcomes (records, events, audit entries, keys, collisions) on every
store; these look inside the SQLite file, at what only this adapter promises.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import CloudEvent, submission_created
from intake_core.domain.models import Submission
from support import make_submission
from support.sqlite_writer import writer_held


def _new() -> tuple[Submission, CloudEvent, AuditEntry]:
    submission = make_submission()
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    return submission, submission_created(submission), audit


async def _save(store: SqliteSubmissionStore) -> str:
    submission, event, audit = _new()
    await store.save_new(submission, event, audit)
    return submission.client_id


async def _save_together(store: SqliteSubmissionStore, count: int) -> list[str]:
    """``count`` saves queued behind one slow write, so the writer takes them as one batch."""
    news = [_new() for _ in range(count)]  # made first, so every save queues at once
    async with writer_held(store._db):
        saves = [asyncio.create_task(store.save_new(*new)) for new in news]
    await asyncio.gather(*saves)
    return [submission.client_id for submission, _, _ in news]


async def test_a_batch_of_new_submissions_takes_one_statement_per_table(
    tmp_path: Path,
) -> None:
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    statements: list[str] = []
    # On the writer's own thread: an sqlite3 connection refuses calls from any other.
    await store._db.write(lambda c: c.set_trace_callback(statements.append))
    await _save_together(store, 40)
    await store.close()
    # Trigger programs are traced too, as "-- …" or again under their statement's text.
    top = [" ".join(s.split()) for s in statements if not s.lstrip().startswith("--")]
    assert sum(s.startswith("INSERT INTO outbox") for s in top) == 1, top
    assert sum(s.startswith("INSERT INTO audit") for s in top) == 1, top
    assert not any(s.startswith("SAVEPOINT") for s in top), top


async def test_rows_saved_together_are_the_rows_saved_alone(tmp_path: Path) -> None:
    path = tmp_path / "intake.db"
    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        alone = await _save(store)
        together = await _save_together(store, 30)
        await store.append_audit(AuditEntry("audit.read", "staff", datetime.now(UTC)))
        report = await store.verify_audit_chain()
        assert report.intact and report.entries == 32, report
    finally:
        await store.close()
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        # The external-content search index agrees with the table, row for row.
        connection.execute(
            "INSERT INTO submissions_search (submissions_search) VALUES ('integrity-check')"
        )
        rows = {
            row["client_id"]: row
            for row in connection.execute(
                "SELECT s.client_id, s.submitted_at, s.search_rowid, o.created_at, o.payload,"
                " typeof(o.available_at) AS available_type"
                " FROM submissions s JOIN outbox o ON o.client_id = s.client_id"
            )
        }
    assert set(rows) == {alone, *together}
    assert sorted(row["search_rowid"] for row in rows.values()) == list(range(1, 32))
    for client_id, row in rows.items():
        assert row["created_at"] == row["submitted_at"]
        assert client_id in row["payload"] and row["available_type"] == "real"
