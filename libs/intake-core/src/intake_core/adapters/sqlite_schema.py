"""The embedded store's tables, and bringing a data directory from an earlier release up to them.

The store's file holds the submissions, the outbox, the audit trail, the idempotency keys and the
search index; the notifier's ledger is a file of its own next to it (:func:`ledger_path`).
Opening the store runs :func:`upgrade` (idempotent), then moves a ledger an earlier release kept
in the store's file out to its own (:func:`entries_of_ledger_table` reads it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from intake_core.adapters.sqlite_audit import chain_unchained_audit

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    client_id     TEXT PRIMARY KEY,
    submitted_at  TEXT NOT NULL,
    status        TEXT NOT NULL,
    industry      TEXT NOT NULL,
    service_type  TEXT NOT NULL,
    search_text   TEXT NOT NULL,
    document      TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    erased_at     TEXT,
    search_rowid  INTEGER
);
CREATE INDEX IF NOT EXISTS submissions_newest ON submissions (submitted_at DESC, client_id DESC);

CREATE TABLE IF NOT EXISTS outbox (
    event_id      TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    published_at  TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    available_at  REAL NOT NULL,
    lease_owner   TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (available_at) WHERE published_at IS NULL;

CREATE TABLE IF NOT EXISTS audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    action     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    client_id  TEXT,
    details    TEXT NOT NULL,
    prev_hash  TEXT,
    hash       TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_record ON audit (client_id, seq);

CREATE TABLE IF NOT EXISTS idempotency (
    key           TEXT PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    submitted_at  TEXT NOT NULL
);
"""


# The notifier's ledger of handled events lives in a file of its own (as in Cosmos DB, where it
# is a container of its own): SQLite lets one process write a file at a time, and intake-api's
# writer, busy under load, kept the notifier's ledger writes waiting for seconds (measured).
LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS handled_events (
    event_id    TEXT NOT NULL,
    handler     TEXT NOT NULL,
    handled_at  TEXT NOT NULL,
    PRIMARY KEY (event_id, handler)
);
"""


# Created after the columns they use exist (a data directory from before them is upgraded first).
SEARCH_SCHEMA = """
CREATE UNIQUE INDEX IF NOT EXISTS submissions_search_rowid ON submissions (search_rowid);
-- The search index holds the records up to ``through`` (by search rowid); newer ones, fewer
-- than INDEX_EVERY, are searched row by row until they join it together.
CREATE TABLE IF NOT EXISTS search_index_mark (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    through  INTEGER NOT NULL
);
CREATE VIEW IF NOT EXISTS submissions_indexed AS
    SELECT search_rowid, search_text FROM submissions
    WHERE search_rowid <= (SELECT through FROM search_index_mark);
-- Walked newest first when q is short or common: every filter and the text are in the index,
-- so rows are read only for the page itself.
CREATE INDEX IF NOT EXISTS submissions_scan ON submissions
    (submitted_at DESC, client_id DESC, status, industry, service_type, search_text)
    WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS submissions_by_status ON submissions
    (status, submitted_at DESC, client_id DESC) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS submissions_by_industry ON submissions
    (industry, submitted_at DESC, client_id DESC) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS submissions_by_service_type ON submissions
    (service_type, submitted_at DESC, client_id DESC) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS submissions_by_age ON submissions (submitted_at)
    WHERE erased_at IS NULL;
-- The dashboard figures: a range of days counted from the index alone, tombstones included.
CREATE INDEX IF NOT EXISTS submissions_by_day ON submissions (submitted_at, status, service_type);
"""


# A record already in the index is kept in step with it in the same transaction; one not yet in
# it joins with its text as it is then. Every indexed row has its (possibly empty) text in the
# index, as FTS5's integrity-check expects.
SEARCH_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS submissions_search_update AFTER UPDATE OF search_text ON submissions
WHEN old.search_rowid <= (SELECT through FROM search_index_mark)
BEGIN
    INSERT INTO submissions_search (submissions_search, rowid, search_text)
        VALUES ('delete', old.search_rowid, old.search_text);
    INSERT INTO submissions_search (rowid, search_text) VALUES (new.search_rowid, new.search_text);
END;
CREATE TRIGGER IF NOT EXISTS submissions_search_delete AFTER DELETE ON submissions
WHEN old.search_rowid <= (SELECT through FROM search_index_mark)
BEGIN
    INSERT INTO submissions_search (submissions_search, rowid, search_text)
        VALUES ('delete', old.search_rowid, old.search_text);
END;
"""


# External content: the index keeps trigrams, the text itself stays in ``submissions`` (the
# indexed part of it, through the view). Its rowid is ``search_rowid`` rather than the table's
# implicit rowid, which VACUUM may renumber.
_CREATE_SEARCH_INDEX = (
    "CREATE VIRTUAL TABLE submissions_search USING fts5(search_text,"
    " content='submissions_indexed', content_rowid='search_rowid', tokenize='trigram')"
)
# The layout before the index took new records in groups: a trigger added each one as it came.
_PER_RECORD_INDEX = "content='submissions',"


# Columns added after the first release; a data directory created before them gets them on open.
_ADDED_COLUMNS = {
    "submissions": {
        "version": "INTEGER NOT NULL DEFAULT 1",
        "erased_at": "TEXT",
        "search_rowid": "INTEGER",
    },
    "audit": {"prev_hash": "TEXT", "hash": "TEXT"},
}


def upgrade(connection: sqlite3.Connection) -> None:
    """Bring a data directory from an earlier release up to this schema; idempotent."""
    for table, columns in _ADDED_COLUMNS.items():
        present = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, definition in columns.items():
            if name not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
    connection.execute("UPDATE submissions SET search_rowid = rowid WHERE search_rowid IS NULL")
    index = connection.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'submissions_search'"
    ).fetchone()
    if index is not None and _PER_RECORD_INDEX in index["sql"]:
        for trigger in ("insert", "update", "delete"):
            connection.execute(f"DROP TRIGGER IF EXISTS submissions_search_{trigger}")
        connection.execute("DROP TABLE submissions_search")
        index = None
    for statement in _statements(SEARCH_SCHEMA):
        connection.execute(statement)
    if index is None:
        # Every record there is goes into the new index at once.
        connection.execute(
            "INSERT OR REPLACE INTO search_index_mark (one, through)"
            " SELECT 1, coalesce(max(search_rowid), 0) FROM submissions"
        )
        connection.execute(_CREATE_SEARCH_INDEX)
        connection.execute("INSERT INTO submissions_search (submissions_search) VALUES ('rebuild')")
    for statement in _statements(SEARCH_TRIGGERS):
        connection.execute(statement)
    chain_unchained_audit(connection)


def _statements(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def entries_of_ledger_table(connection: sqlite3.Connection) -> list[tuple[str, str, str]] | None:
    """The ledger's entries if this file still has the table it was kept in, else None."""
    table = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'handled_events'"
    ).fetchone()
    if table is None:
        return None
    rows = connection.execute("SELECT event_id, handler, handled_at FROM handled_events")
    return [tuple(row) for row in rows]


def ledger_path(store_path: Path) -> Path:
    """Where the store at ``store_path`` keeps the notifier's ledger: next to it."""
    return store_path.with_name(f"{store_path.stem}-ledger.db")
