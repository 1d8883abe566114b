"""The audit trail in the embedded store: one hash chain over the whole trail.

Each entry stores ``prev_hash`` and ``hash`` (:func:`audit_chain_hash`). Appends happen inside
``BEGIN IMMEDIATE``, which excludes every other writer of the file (other processes too), so
reading the last hash and appending the next entry can never interleave.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from intake_core.domain.audit import (
    AUDIT_GENESIS_HASH,
    AuditChainReport,
    AuditEntry,
    audit_chain_hash,
)
from intake_core.domain.utc import utc_text

# Where new rows continue from: the highest search rowid (or the index's mark, should the newest
# records have been deleted: a new one must never look indexed); the number AUTOINCREMENT would
# give the next audit entry (one past the highest ever used, so a truncated chain stays visibly
# truncated); the hash of the entry it follows; and how far the search index reaches.
HEADS = """
SELECT max(coalesce((SELECT max(search_rowid) FROM submissions), 0),
           coalesce((SELECT through FROM search_index_mark), 0)) AS search_rowid,
       max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0),
           coalesce((SELECT max(seq) FROM audit), 0)) + 1 AS next_seq,
       (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) AS prev_hash,
       (SELECT through FROM search_index_mark) AS indexed_through
"""

INSERT_AUDIT = """
INSERT INTO audit (seq, at, action, actor, client_id, details, prev_hash, hash)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
       value ->> 6, value ->> 7
FROM json_each(?)
"""


def insert_audit(connection: sqlite3.Connection, entry: AuditEntry) -> None:
    # Runs inside BEGIN IMMEDIATE: no other writer can append between this read and the insert.
    head = connection.execute(HEADS).fetchone()
    row, _ = audit_row(entry, head["next_seq"], head["prev_hash"])
    connection.execute(INSERT_AUDIT, (json.dumps([row]),))


def audit_row(entry: AuditEntry, sequence: int, prev_hash: str | None) -> tuple[list[object], str]:
    """The columns of the entry numbered ``sequence`` after ``prev_hash``, and its hash."""
    prev_hash = prev_hash or AUDIT_GENESIS_HASH
    at, details = utc_text(entry.at), json.dumps(entry.details)
    # Hash what a reader will get back, so verifying compares like with like.
    stored = AuditEntry(
        entry.action, entry.actor, datetime.fromisoformat(at), entry.client_id, json.loads(details)
    )
    entry_hash = audit_chain_hash(prev_hash, sequence, stored)
    row = [sequence, at, entry.action, entry.actor, entry.client_id, details, prev_hash, entry_hash]
    return row, entry_hash


def audit_entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        action=row["action"],
        actor=row["actor"],
        at=datetime.fromisoformat(row["at"]),
        client_id=row["client_id"],
        details=json.loads(row["details"]),
    )


def chain_unchained_audit(connection: sqlite3.Connection) -> None:
    """Entries written before the chain existed are chained, in order, the first time."""
    rows = connection.execute("SELECT * FROM audit WHERE hash IS NULL ORDER BY seq").fetchall()
    for row in rows:
        before = connection.execute(
            "SELECT hash FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT 1", (row["seq"],)
        ).fetchone()
        prev_hash = before["hash"] if before is not None else AUDIT_GENESIS_HASH
        connection.execute(
            "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?",
            (prev_hash, audit_chain_hash(prev_hash, row["seq"], audit_entry(row)), row["seq"]),
        )


def verify_audit_chain(connection: sqlite3.Connection) -> AuditChainReport:
    """One read transaction, so entries appended meanwhile are not half seen."""
    connection.execute("BEGIN")
    try:
        return _walk_audit_chain(connection)
    finally:
        connection.execute("COMMIT")


def _walk_audit_chain(connection: sqlite3.Connection) -> AuditChainReport:
    previous_hash, previous_seq, count = AUDIT_GENESIS_HASH, 0, 0

    def broken(seq: int, problem: str) -> AuditChainReport:
        return AuditChainReport(False, count, previous_hash, broken_at=seq, problem=problem)

    for row in connection.execute("SELECT * FROM audit ORDER BY seq"):
        seq = row["seq"]
        if seq != previous_seq + 1:
            return broken(seq, f"entries {previous_seq + 1} to {seq - 1} are missing")
        if row["prev_hash"] != previous_hash:
            return broken(seq, "does not link to the entry before it")
        try:
            expected = audit_chain_hash(previous_hash, seq, audit_entry(row))
        except (ValueError, TypeError):
            return broken(seq, "is not readable")
        if row["hash"] != expected:
            return broken(seq, "was changed after it was written")
        previous_hash, previous_seq, count = expected, seq, count + 1
    highest = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    if highest is not None and highest["seq"] > previous_seq:
        return broken(previous_seq + 1, "the latest entries are missing")
    return AuditChainReport(True, count, previous_hash)
