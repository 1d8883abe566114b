"""The embedded submission store: one SQLite file in WAL mode, and the notifier's ledger beside it.

This module saves new submissions (those that arrive together go in with one ``INSERT`` per
table), reads and changes records, and keeps the ledger. The tables and their upgrades
(:mod:`sqlite_schema`), search (:mod:`sqlite_search`), the audit chain (:mod:`sqlite_audit`),
the outbox (:mod:`sqlite_outbox`) and purging expired rows (:mod:`sqlite_expiry`) have modules
of their own, as the Cosmos DB store's parts do; the threads, group commit and checkpoints are
:mod:`sqlite_base`'s. Why it is tuned as it is: ``docs/adr/0007``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from intake_core.adapters import sqlite_search
from intake_core.adapters.sqlite_audit import (
    HEADS,
    INSERT_AUDIT,
    audit_entry,
    audit_row,
    insert_audit,
    verify_audit_chain,
)
from intake_core.adapters.sqlite_base import SqliteDatabase, execute
from intake_core.adapters.sqlite_expiry import (
    HANDLED_EVENTS,
    IDEMPOTENCY_KEYS,
    PUBLISHED_EVENTS,
    PURGE_BATCH,
    purge,
)
from intake_core.adapters.sqlite_outbox import SqliteOutbox
from intake_core.adapters.sqlite_schema import (
    LEDGER_SCHEMA,
    SCHEMA,
    entries_of_ledger_table,
    ledger_path,
    upgrade,
)
from intake_core.domain.audit import AuditAction, AuditChainReport, AuditEntry
from intake_core.domain.erasure import RecordedErasure
from intake_core.domain.events import CloudEvent
from intake_core.domain.figures import SubmissionFigures
from intake_core.domain.models import (
    ErasedSubmission,
    Industry,
    ServiceType,
    Status,
    Submission,
)
from intake_core.domain.stored import STORED
from intake_core.domain.utc import utc_days, utc_text
from intake_core.ports.intake import ClientIdTaken, Idempotency, IdempotencyConflict, SaveResult
from intake_core.ports.outbox import OutboxItem, OutboxStats, PurgedItems
from intake_core.ports.staff import (
    HitPage,
    SearchHit,
    SearchQuery,
    StoredRecord,
    SubmissionNotFound,
    VersionConflict,
)
from intake_core.ports.store import SearchPage


@dataclass(frozen=True)
class _NewSubmission:
    """One ``save_new``: its submission and outbox rows, ready to insert."""

    submission_row: tuple[str, str, str, str, str, str, str]
    outbox_row: tuple[str, str, str, str, float]
    audit: AuditEntry
    idempotency: Idempotency | None
    saved: SaveResult


def _save_new_submissions(
    connection: sqlite3.Connection, batch: list[_NewSubmission]
) -> list[SaveResult]:
    """Save submissions arriving together with one statement per table, not three per
    submission: under load, each statement's return to Python waited for the interpreter's lock
    (see :mod:`intake_core.adapters.sqlite_base`). One alone, or a repeated Idempotency-Key
    (known already or twice in the batch), takes the one-by-one path, which answers it."""
    keys = [new.idempotency.key for new in batch if new.idempotency is not None]
    if len(batch) == 1 or len(set(keys)) < len(keys) or (keys and _known_keys(connection, keys)):
        return [_save_new_submission(connection, new) for new in batch]
    # A Client ID already taken fails the whole statement; the batch then runs one by one.
    _insert_new(connection, batch)
    return [new.saved for new in batch]


def _save_new_submission(connection: sqlite3.Connection, new: _NewSubmission) -> SaveResult:
    if new.idempotency is not None:
        earlier = connection.execute(
            "SELECT fingerprint, client_id, submitted_at FROM idempotency WHERE key = ?",
            (new.idempotency.key,),
        ).fetchone()
        if earlier is not None:
            if earlier["fingerprint"] != new.idempotency.fingerprint:
                raise IdempotencyConflict(new.idempotency.key)
            return SaveResult(
                earlier["client_id"],
                datetime.fromisoformat(earlier["submitted_at"]),
                created=False,
            )
    try:
        _insert_new(connection, [new])
    except sqlite3.IntegrityError as error:
        # The event id is fresh and the key was just looked up: only the Client ID can clash.
        raise ClientIdTaken(new.submission_row[0]) from error
    return new.saved


def _insert_new(connection: sqlite3.Connection, batch: list[_NewSubmission]) -> None:
    """The rows of new submissions, numbered on from the store's heads, one INSERT per table."""
    head = connection.execute(HEADS).fetchone()
    search_rowid, sequence, prev_hash = head["search_rowid"], head["next_seq"], head["prev_hash"]
    submissions, outbox, audit, idempotency = [], [], [], []
    for new in batch:
        search_rowid += 1
        submissions.append([*new.submission_row, search_rowid])
        outbox.append(new.outbox_row)
        entry_row, prev_hash = audit_row(new.audit, sequence, prev_hash)
        audit.append(entry_row)
        sequence += 1
        if new.idempotency is not None:
            client_id, submitted_at = new.submission_row[:2]
            key = new.idempotency
            idempotency.append([key.key, key.fingerprint, client_id, submitted_at])
    connection.execute(_INSERT_SUBMISSIONS, (json.dumps(submissions),))
    connection.execute(_INSERT_OUTBOX, (json.dumps(outbox),))
    connection.execute(INSERT_AUDIT, (json.dumps(audit),))
    if idempotency:
        connection.execute(_INSERT_IDEMPOTENCY, (json.dumps(idempotency),))
    if search_rowid - head["indexed_through"] >= sqlite_search.INDEX_EVERY:
        sqlite_search.index_between(connection, head["indexed_through"], search_rowid)


def _known_keys(connection: sqlite3.Connection, keys: list[str]) -> bool:
    return (
        connection.execute(
            "SELECT 1 FROM idempotency WHERE key IN (SELECT value FROM json_each(?)) LIMIT 1",
            (json.dumps(keys),),
        ).fetchone()
        is not None
    )


class SqliteSubmissionStore:
    def __init__(self, path: Path, busy_timeout_seconds: float = 2.0) -> None:
        self._db = SqliteDatabase(path, SCHEMA, busy_timeout_seconds)
        self._outbox = SqliteOutbox(self._db)
        self._ledger = SqliteDatabase(ledger_path(path), LEDGER_SCHEMA, busy_timeout_seconds)
        self._ledger_opened = False

    async def open(self) -> None:
        await self._db.open()  # every connection zeroes freed pages (secure_delete)
        await self._db.write(upgrade)
        await self._move_ledger_out()

    async def _move_ledger_out(self) -> None:
        """A data directory from before the ledger had its own file keeps it as a table here:
        its entries are copied to the ledger's file, then the table is dropped (a crash between
        the two only copies them again). Run with the notifier of the earlier release stopped."""
        entries = await self._db.read(entries_of_ledger_table)
        if entries is None:
            return
        ledger = await self._opened_ledger()
        await ledger.write(
            lambda connection: connection.executemany(_RECORD_HANDLED, entries).rowcount
        )
        await self._db.write(execute("DROP TABLE handled_events"))

    async def close(self) -> None:
        await self._ledger.close()
        await self._db.close()

    async def ping(self) -> None:
        """Ready means writable: take the write lock (an empty transaction), not just read."""
        await self._db.write(lambda connection: None)

    async def save_new(
        self,
        submission: Submission,
        event: CloudEvent,
        audit: AuditEntry,
        idempotency: Idempotency | None = None,
    ) -> SaveResult:
        # Rendered here, on the caller's thread: the writer thread does as little as it can.
        client_id, submitted_at = submission.client_id, utc_text(submission.submitted_at)
        new = _NewSubmission(
            submission_row=(
                client_id,
                submitted_at,
                submission.status.value,
                submission.company.industry.value,
                submission.engagement.service_type.value,
                sqlite_search.search_text(submission),
                submission.model_dump_json(by_alias=True),
            ),
            outbox_row=(event.id, client_id, event.to_json(), submitted_at, time.time()),
            audit=audit,
            idempotency=idempotency,
            saved=SaveResult(submission.client_id, submission.submitted_at, created=True),
        )
        result: SaveResult = await self._db.write_combined(new, _save_new_submissions)
        return result

    async def get(self, client_id: str) -> Submission | None:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT document FROM submissions WHERE client_id = ? AND erased_at IS NULL",
                (client_id,),
            ).fetchone()
        )
        return (
            None if row is None else Submission.model_validate_json(row["document"], context=STORED)
        )

    async def exists(self, client_id: str) -> bool:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT 1 FROM submissions WHERE client_id = ? AND erased_at IS NULL",
                (client_id,),
            ).fetchone()
        )
        return row is not None

    async def search(self, query: SearchQuery) -> SearchPage:
        """The page :meth:`search_hits` lists, each record whole: for the contract tests and
        tests that read back what they saved; no service calls it (``SubmissionStore.search``)."""
        page, token = await self._search_page(query, sqlite_search.DOCUMENTS)
        items = [Submission.model_validate_json(row["document"], context=STORED) for row in page]
        return SearchPage(items=items, continuation_token=token)

    async def search_hits(self, query: SearchQuery) -> HitPage:
        page, token = await self._search_page(query, sqlite_search.HITS)
        return HitPage(items=[_hit(row) for row in page], continuation_token=token)

    async def _search_page(
        self, query: SearchQuery, columns: str
    ) -> tuple[list[sqlite3.Row], str | None]:
        """The page's rows and, when more follow, the token that continues after them."""
        rows = await self._db.read(
            lambda connection: sqlite_search.search_rows(connection, query, columns)
        )
        page = rows[: query.limit]
        return page, sqlite_search.encode_token(page[-1]) if len(rows) > query.limit else None

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
            current = Submission.model_validate_json(row["document"], context=STORED)
            changed = current.model_copy(update={"status": new_status})
            connection.execute(
                "UPDATE submissions SET status = ?, document = ?, version = version + 1"
                " WHERE client_id = ?",
                (new_status.value, changed.model_dump_json(by_alias=True), client_id),
            )
            insert_audit(connection, audit)
            return StoredRecord(changed, str(row["version"] + 1))

        return await self._db.write(transaction)

    async def erase(self, client_id: str, audit: AuditEntry) -> StoredRecord:
        def transaction(connection: sqlite3.Connection) -> StoredRecord:
            row = _select_record(connection, client_id)
            if row is None:
                raise SubmissionNotFound(client_id)
            insert_audit(connection, audit)
            if row["erased_at"] is not None:
                return _stored_record(row)
            submission = Submission.model_validate_json(row["document"], context=STORED)
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

    async def forget_erased_remnants(self) -> None:
        # FTS5 (before SQLite 3.44) only marks deleted entries; 'optimize' rewrites the index
        # without them. The checkpoint then moves every page into the file (where freed pages
        # are zeroed) and empties the write-ahead log, which still holds old page images.
        await self._db.write(
            execute("INSERT INTO submissions_search (submissions_search) VALUES ('optimize')")
        )
        await self._db.empty_wal()

    async def erasures_since(self, since: datetime) -> list[RecordedErasure]:
        # No index: this runs once after a restore and once a day in the retention job, and
        # scanning the whole trail takes about 0.2 s per million entries (measured, warm cache).
        # An index on (action, at) would be written with every audited action, by the writer
        # every request waits for.
        rows = await self._db.read(
            lambda connection: connection.execute(
                "SELECT client_id, at, details ->> '$.reason' AS reason FROM audit"
                " WHERE action = ? AND at >= ? AND client_id IS NOT NULL ORDER BY at, seq",
                (AuditAction.ERASE, utc_text(since)),
            ).fetchall()
        )
        return [
            RecordedErasure(row["client_id"], datetime.fromisoformat(row["at"]), row["reason"])
            for row in rows
        ]

    async def expired_records(self, submitted_before: datetime, limit: int) -> list[str]:
        rows = await self._db.read(
            lambda connection: connection.execute(
                "SELECT client_id FROM submissions INDEXED BY submissions_by_age"
                " WHERE erased_at IS NULL AND submitted_at < ? ORDER BY submitted_at LIMIT ?",
                (utc_text(submitted_before), limit),
            ).fetchall()
        )
        return [row["client_id"] for row in rows]

    async def submission_figures(self, first_day: date, last_day: date) -> SubmissionFigures:
        start, end = utc_days(first_day, last_day)
        # ``submitted_at`` is fixed-width UTC text: its first ten characters are the UTC day.
        rows = await self._db.read(
            lambda connection: connection.execute(
                "SELECT substr(submitted_at, 1, 10) AS day, status, service_type,"
                " count(*) AS submissions FROM submissions INDEXED BY submissions_by_day"
                " WHERE submitted_at >= ? AND submitted_at < ?"
                " GROUP BY day, status, service_type",
                (utc_text(start), utc_text(end)),
            ).fetchall()
        )
        return SubmissionFigures(
            {
                (
                    date.fromisoformat(row["day"]),
                    Status(row["status"]),
                    ServiceType(row["service_type"]),
                ): row["submissions"]
                for row in rows
            }
        )

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._db.write(lambda connection: insert_audit(connection, entry))

    async def audit_trail(self, client_id: str) -> list[AuditEntry]:
        rows = await self._db.read(
            lambda connection: connection.execute(
                "SELECT * FROM audit WHERE client_id = ? ORDER BY seq", (client_id,)
            ).fetchall()
        )
        return [audit_entry(row) for row in rows]

    async def verify_audit_chain(self) -> AuditChainReport:
        return await self._db.read(verify_audit_chain)

    async def claim_outbox(
        self, owner: str, limit: int, lease_seconds: float, *, min_age_seconds: float = 0.0
    ) -> list[OutboxItem]:
        return await self._outbox.claim(owner, limit, lease_seconds, min_age_seconds)

    async def mark_published(self, event_id: str) -> None:
        await self.mark_published_batch([event_id])

    async def mark_published_batch(self, event_ids: Collection[str]) -> None:
        await self._outbox.mark_published(event_ids)

    async def release_outbox(self, event_id: str, retry_in_seconds: float) -> None:
        await self._outbox.release(event_id, retry_in_seconds)

    async def outbox_stats(self) -> OutboxStats:
        return await self._outbox.stats()

    async def purge_expired(self, now: datetime, *, batch_size: int = PURGE_BATCH) -> PurgedItems:
        """Walks the outbox, then the idempotency keys, oldest first, ``batch_size`` rows per
        transaction, until it reaches rows written after the cutoff (see :mod:`sqlite_expiry`)."""
        return PurgedItems(
            outbox_events=await purge(self._db, PUBLISHED_EVENTS, now, batch_size),
            idempotency_keys=await purge(self._db, IDEMPOTENCY_KEYS, now, batch_size),
        )

    async def purge_expired_ledger(self, now: datetime, *, batch_size: int = PURGE_BATCH) -> int:
        """The same walk over the ledger's file, by when each entry was handled."""
        return await purge(await self._opened_ledger(), HANDLED_EVENTS, now, batch_size)

    async def _opened_ledger(self) -> SqliteDatabase:
        """The ledger is opened on first use: only the notifier keeps one."""
        if not self._ledger_opened:
            await self._ledger.open()
            self._ledger_opened = True
        return self._ledger

    async def record_handled(self, event_id: str, handler: str) -> bool:
        def transaction(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(_RECORD_HANDLED, (event_id, handler, utc_text(_now())))
            return cursor.rowcount == 1

        ledger = await self._opened_ledger()
        return await ledger.write(transaction)

    async def was_handled(self, event_id: str, handler: str) -> bool:
        ledger = await self._opened_ledger()
        row = await ledger.read(
            lambda connection: connection.execute(
                "SELECT 1 FROM handled_events WHERE event_id = ? AND handler = ?",
                (event_id, handler),
            ).fetchone()
        )
        return row is not None


_RECORD_HANDLED = "INSERT OR IGNORE INTO handled_events VALUES (?, ?, ?)"


def _now() -> datetime:
    return datetime.now(UTC)


def _select_record(connection: sqlite3.Connection, client_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = connection.execute(
        "SELECT document, version, erased_at FROM submissions WHERE client_id = ?", (client_id,)
    ).fetchone()
    return row


def _hit(row: sqlite3.Row) -> SearchHit:
    """A row selected with ``sqlite_search.HITS``: the columns kept beside the document, and
    the three fields SQLite picked out of it."""
    return SearchHit(
        client_id=row["client_id"],
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        status=Status(row["status"]),
        industry=Industry(row["industry"]),
        service_type=ServiceType(row["service_type"]),
        company_name=row["company_name"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
    )


def _stored_record(row: sqlite3.Row) -> StoredRecord:
    record: Submission | ErasedSubmission
    if row["erased_at"] is None:
        record = Submission.model_validate_json(row["document"], context=STORED)
    else:
        record = ErasedSubmission.model_validate_json(row["document"], context=STORED)
    return StoredRecord(record, str(row["version"]))


# Rows go in as one JSON array of arrays, one statement per table however many there are.
_INSERT_SUBMISSIONS = """
INSERT INTO submissions (client_id, submitted_at, status, industry, service_type, search_text,
                         document, search_rowid)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
       value ->> 6, value ->> 7
FROM json_each(?)
"""
_INSERT_OUTBOX = """
INSERT INTO outbox (event_id, client_id, payload, created_at, available_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)
"""
_INSERT_IDEMPOTENCY = """
INSERT INTO idempotency (key, fingerprint, client_id, submitted_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)
"""
