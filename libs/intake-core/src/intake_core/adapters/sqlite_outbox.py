"""The transactional outbox in the embedded store: event rows next to their submissions.

A submission's event is inserted in the transaction that saves it (:mod:`sqlite_store`). Relays
in any number of processes claim with one ``UPDATE … RETURNING`` inside the writer's ``BEGIN
IMMEDIATE``, which excludes every other writer of the file, so no two claim the same event. A
claim is a lease: an ``available_at`` in the future, so a crashed relay's events come due again.
A published event is marked, not deleted, and purged a week later (:mod:`sqlite_expiry`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from datetime import UTC, datetime

from intake_core.adapters.sqlite_base import SqliteDatabase, execute
from intake_core.domain.events import CloudEvent
from intake_core.domain.utc import utc_text
from intake_core.ports.outbox import OutboxItem, OutboxStats


class SqliteOutbox:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def claim(
        self, owner: str, limit: int, lease_seconds: float, min_age_seconds: float
    ) -> list[OutboxItem]:
        def transaction(connection: sqlite3.Connection) -> list[OutboxItem]:
            now = time.time()
            saved_before = utc_text(datetime.fromtimestamp(now - min_age_seconds, UTC))
            rows = connection.execute(
                "UPDATE outbox SET lease_owner = ?, available_at = ?, attempts = attempts + 1"
                " WHERE event_id IN (SELECT event_id FROM outbox"
                "   WHERE published_at IS NULL AND available_at <= ? AND created_at <= ?"
                "   ORDER BY available_at LIMIT ?)"
                " RETURNING payload, attempts",
                (owner, now + lease_seconds, now, saved_before, limit),
            ).fetchall()
            return [
                OutboxItem(CloudEvent.from_json(row["payload"]), row["attempts"]) for row in rows
            ]

        return await self._db.write(transaction)

    async def mark_published(self, event_ids: Collection[str]) -> None:
        published_at = utc_text(datetime.now(UTC))
        # One statement for the batch (its ids as a JSON array), not one per event.
        await self._db.write(
            execute(
                "UPDATE outbox SET published_at = ?, lease_owner = NULL"
                " WHERE event_id IN (SELECT value FROM json_each(?))",
                (published_at, json.dumps(list(event_ids))),
            )
        )

    async def release(self, event_id: str, retry_in_seconds: float) -> None:
        await self._db.write(
            execute(
                "UPDATE outbox SET available_at = ?, lease_owner = NULL"
                " WHERE event_id = ? AND published_at IS NULL",
                (time.time() + retry_in_seconds, event_id),
            )
        )

    async def stats(self) -> OutboxStats:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL"
            ).fetchone()
        )
        oldest = datetime.fromisoformat(row[1]) if row[1] is not None else None
        return OutboxStats(backlog=int(row[0]), oldest_created_at=oldest)
