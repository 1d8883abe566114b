"""The embedded submission store: one SQLite file in WAL mode."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from intake_core.adapters.sqlite_base import SqliteDatabase, utc_text
from intake_core.domain.events import CloudEvent
from intake_core.domain.models import ErasedSubmission, Status, Submission
from intake_core.ports import (
    AuditEntry,
    ClientIdTaken,
    Idempotency,
    IdempotencyConflict,
    OutboxItem,
    SaveResult,
    SearchPage,
    SearchQuery,
    StoredRecord,
    SubmissionNotFound,
    VersionConflict,
)

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
    erased_at     TEXT
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
    details    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_record ON audit (client_id, seq);

CREATE TABLE IF NOT EXISTS idempotency (
    key           TEXT PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    submitted_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS handled_events (
    event_id    TEXT NOT NULL,
    handler     TEXT NOT NULL,
    handled_at  TEXT NOT NULL,
    PRIMARY KEY (event_id, handler)
);
"""

# Columns added after the first release; a data directory created before them gets them on open.
_ADDED_COLUMNS = {
    "version": "INTEGER NOT NULL DEFAULT 1",
    "erased_at": "TEXT",
}


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    present = {row["name"] for row in connection.execute("PRAGMA table_info(submissions)")}
    for name, definition in _ADDED_COLUMNS.items():
        if name not in present:
            connection.execute(f"ALTER TABLE submissions ADD COLUMN {name} {definition}")


def _search_text(submission: Submission) -> str:
    company = submission.company
    parts = (submission.client_id, company.name, company.contact.name, company.contact.email)
    return "\n".join(parts).casefold()


def _encode_token(row: sqlite3.Row) -> str:
    position = json.dumps([row["submitted_at"], row["client_id"]])
    return base64.urlsafe_b64encode(position.encode()).decode()


def _decode_token(token: str) -> tuple[str, str]:
    try:
        submitted_at, client_id = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError) as error:
        raise ValueError("continuationToken is not valid") from error
    if not isinstance(submitted_at, str) or not isinstance(client_id, str):
        raise ValueError("continuationToken is not valid")
    return submitted_at, client_id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqliteSubmissionStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path, SCHEMA)

    async def open(self) -> None:
        await self._db.open()
        await self._db.write(_add_missing_columns)

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> None:
        await self._db.read(lambda connection: connection.execute("SELECT 1").fetchone())

    async def save_new(
        self,
        submission: Submission,
        event: CloudEvent,
        audit: AuditEntry,
        idempotency: Idempotency | None = None,
    ) -> SaveResult:
        def transaction(connection: sqlite3.Connection) -> SaveResult:
            if idempotency is not None:
                earlier = connection.execute(
                    "SELECT fingerprint, client_id, submitted_at FROM idempotency WHERE key = ?",
                    (idempotency.key,),
                ).fetchone()
                if earlier is not None:
                    if earlier["fingerprint"] != idempotency.fingerprint:
                        raise IdempotencyConflict(idempotency.key)
                    return SaveResult(
                        earlier["client_id"],
                        datetime.fromisoformat(earlier["submitted_at"]),
                        created=False,
                    )
            submitted_at = utc_text(submission.submitted_at)
            try:
                connection.execute(
                    "INSERT INTO submissions (client_id, submitted_at, status, industry,"
                    " service_type, search_text, document) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        submission.client_id,
                        submitted_at,
                        submission.status.value,
                        submission.company.industry.value,
                        submission.engagement.service_type.value,
                        _search_text(submission),
                        submission.model_dump_json(by_alias=True),
                    ),
                )
            except sqlite3.IntegrityError as error:
                raise ClientIdTaken(submission.client_id) from error
            connection.execute(
                "INSERT INTO outbox (event_id, client_id, payload, created_at, available_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (event.id, submission.client_id, event.to_json(), submitted_at, time.time()),
            )
            _insert_audit(connection, audit)
            if idempotency is not None:
                connection.execute(
                    "INSERT INTO idempotency VALUES (?, ?, ?, ?)",
                    (idempotency.key, idempotency.fingerprint, submission.client_id, submitted_at),
                )
            return SaveResult(submission.client_id, submission.submitted_at, created=True)

        return await self._db.write(transaction)

    async def get(self, client_id: str) -> Submission | None:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT document FROM submissions WHERE client_id = ? AND erased_at IS NULL",
                (client_id,),
            ).fetchone()
        )
        return None if row is None else Submission.model_validate_json(row["document"])

    async def search(self, query: SearchQuery) -> SearchPage:
        clauses: list[str] = ["erased_at IS NULL"]
        parameters: list[Any] = []
        if query.text:
            clauses.append("search_text LIKE ? ESCAPE '\\'")
            parameters.append(f"%{_escape_like(query.text.casefold())}%")
        for column, value in (
            ("industry", query.industry),
            ("service_type", query.service_type),
            ("status", query.status),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                parameters.append(value.value)
        if query.submitted_from is not None:
            clauses.append("submitted_at >= ?")
            parameters.append(utc_text(query.submitted_from))
        if query.submitted_to is not None:
            clauses.append("submitted_at <= ?")
            parameters.append(utc_text(query.submitted_to))
        if query.continuation_token:
            clauses.append("(submitted_at, client_id) < (?, ?)")
            parameters.extend(_decode_token(query.continuation_token))
        where = f"WHERE {' AND '.join(clauses)}"
        sql = (
            f"SELECT client_id, submitted_at, document FROM submissions {where}"  # noqa: S608 - only fixed column names are interpolated
            " ORDER BY submitted_at DESC, client_id DESC LIMIT ?"
        )
        parameters.append(query.limit + 1)
        rows = await self._db.read(
            lambda connection: connection.execute(sql, parameters).fetchall()
        )
        page = rows[: query.limit]
        token = _encode_token(page[-1]) if len(rows) > query.limit else None
        items = [Submission.model_validate_json(row["document"]) for row in page]
        return SearchPage(items=items, continuation_token=token)

    async def get_record(self, client_id: str) -> StoredRecord | None:
        row = await self._db.read(lambda connection: _select_record(connection, client_id))
        return None if row is None else _stored_record(row)

    async def update_status(
        self, client_id: str, new_status: Status, expected_version: str, audit: AuditEntry
    ) -> StoredRecord:
        def transaction(connection: sqlite3.Connection) -> StoredRecord:
            row = _select_record(connection, client_id)
            if row is None:
                raise SubmissionNotFound(client_id)
            if str(row["version"]) != expected_version or row["erased_at"] is not None:
                raise VersionConflict(client_id)
            current = Submission.model_validate_json(row["document"])
            changed = current.model_copy(update={"status": new_status})
            connection.execute(
                "UPDATE submissions SET status = ?, document = ?, version = version + 1"
                " WHERE client_id = ?",
                (new_status.value, changed.model_dump_json(by_alias=True), client_id),
            )
            _insert_audit(connection, audit)
            return StoredRecord(changed, str(row["version"] + 1))

        return await self._db.write(transaction)

    async def erase(self, client_id: str, audit: AuditEntry) -> StoredRecord:
        def transaction(connection: sqlite3.Connection) -> StoredRecord:
            row = _select_record(connection, client_id)
            if row is None:
                raise SubmissionNotFound(client_id)
            _insert_audit(connection, audit)
            if row["erased_at"] is not None:
                return _stored_record(row)
            submission = Submission.model_validate_json(row["document"])
            tombstone = ErasedSubmission.of(submission, erased_at=audit.at)
            connection.execute(
                "UPDATE submissions SET search_text = '', document = ?, erased_at = ?,"
                " version = version + 1 WHERE client_id = ?",
                (tombstone.model_dump_json(by_alias=True), utc_text(audit.at), client_id),
            )
            # The event payload repeats the contact details; an unsent one is dropped with
            # them (nobody should be contacted about an erased request).
            connection.execute("DELETE FROM outbox WHERE client_id = ?", (client_id,))
            # The fingerprint hashes the personal data; a guess could be confirmed against it.
            connection.execute("DELETE FROM idempotency WHERE client_id = ?", (client_id,))
            return StoredRecord(tombstone, str(row["version"] + 1))

        return await self._db.write(transaction)

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._db.write(lambda connection: _insert_audit(connection, entry))

    async def audit_trail(self, client_id: str) -> list[AuditEntry]:
        rows = await self._db.read(
            lambda connection: connection.execute(
                "SELECT * FROM audit WHERE client_id = ? ORDER BY seq", (client_id,)
            ).fetchall()
        )
        return [
            AuditEntry(
                action=row["action"],
                actor=row["actor"],
                at=datetime.fromisoformat(row["at"]),
                client_id=row["client_id"],
                details=json.loads(row["details"]),
            )
            for row in rows
        ]

    async def claim_outbox(self, owner: str, limit: int, lease_seconds: float) -> list[OutboxItem]:
        def transaction(connection: sqlite3.Connection) -> list[OutboxItem]:
            now = time.time()
            rows = connection.execute(
                "UPDATE outbox SET lease_owner = ?, available_at = ?, attempts = attempts + 1"
                " WHERE event_id IN (SELECT event_id FROM outbox"
                "   WHERE published_at IS NULL AND available_at <= ?"
                "   ORDER BY available_at LIMIT ?)"
                " RETURNING payload, attempts",
                (owner, now + lease_seconds, now, limit),
            ).fetchall()
            return [
                OutboxItem(CloudEvent.from_json(row["payload"]), row["attempts"]) for row in rows
            ]

        return await self._db.write(transaction)

    async def mark_published(self, event_id: str) -> None:
        await self._db.write(
            lambda connection: connection.execute(
                "UPDATE outbox SET published_at = ?, lease_owner = NULL WHERE event_id = ?",
                (utc_text(_now()), event_id),
            )
        )

    async def release_outbox(self, event_id: str, retry_in_seconds: float) -> None:
        await self._db.write(
            lambda connection: connection.execute(
                "UPDATE outbox SET available_at = ?, lease_owner = NULL"
                " WHERE event_id = ? AND published_at IS NULL",
                (time.time() + retry_in_seconds, event_id),
            )
        )

    async def outbox_backlog(self) -> int:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            ).fetchone()
        )
        return int(row[0])

    async def record_handled(self, event_id: str, handler: str) -> bool:
        def transaction(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO handled_events VALUES (?, ?, ?)",
                (event_id, handler, utc_text(_now())),
            )
            return cursor.rowcount == 1

        return await self._db.write(transaction)

    async def was_handled(self, event_id: str, handler: str) -> bool:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT 1 FROM handled_events WHERE event_id = ? AND handler = ?",
                (event_id, handler),
            ).fetchone()
        )
        return row is not None


def _now() -> datetime:
    return datetime.now(UTC)


def _select_record(connection: sqlite3.Connection, client_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = connection.execute(
        "SELECT document, version, erased_at FROM submissions WHERE client_id = ?", (client_id,)
    ).fetchone()
    return row


def _stored_record(row: sqlite3.Row) -> StoredRecord:
    record: Submission | ErasedSubmission
    if row["erased_at"] is None:
        record = Submission.model_validate_json(row["document"])
    else:
        record = ErasedSubmission.model_validate_json(row["document"])
    return StoredRecord(record, str(row["version"]))


def _insert_audit(connection: sqlite3.Connection, entry: AuditEntry) -> None:
    connection.execute(
        "INSERT INTO audit (at, action, actor, client_id, details) VALUES (?, ?, ?, ?, ?)",
        (utc_text(entry.at), entry.action, entry.actor, entry.client_id, json.dumps(entry.details)),
    )
