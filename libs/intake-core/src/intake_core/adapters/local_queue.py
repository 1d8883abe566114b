"""A durable queue in SQLite with Service Bus semantics, for running without a cloud.

Peek-lock delivery: a received message stays invisible for ``lock_seconds``; completing removes
it, abandoning makes it visible again, and a lock that expires (the worker died) redelivers it.
After ``max_delivery_count`` deliveries it moves to the dead-letter queue. The message id is
unique, which gives the duplicate detection Service Bus offers.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from intake_core.adapters.sqlite_base import SqliteDatabase, execute
from intake_core.domain.entropy import random_uuid
from intake_core.domain.events import CloudEvent
from intake_core.ports.queue import DeadLetter, Delivery

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue            TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    body             TEXT NOT NULL,
    properties       TEXT NOT NULL,
    enqueued_at      REAL NOT NULL,
    visible_at       REAL NOT NULL,
    delivery_count   INTEGER NOT NULL DEFAULT 0,
    lock_token       TEXT,
    dead_lettered_at REAL,
    dead_letter_reason TEXT,
    dead_letter_description TEXT,
    UNIQUE (queue, message_id)
);
CREATE INDEX IF NOT EXISTS messages_ready
    ON messages (queue, visible_at) WHERE dead_lettered_at IS NULL;
CREATE INDEX IF NOT EXISTS messages_locked ON messages (lock_token) WHERE lock_token IS NOT NULL;
"""


def _properties(event: CloudEvent) -> dict[str, str]:
    return {"traceparent": event.traceparent} if event.traceparent else {}


class LocalQueue:
    """Both ends of one named queue: publisher for the relay, consumer for the worker."""

    def __init__(
        self,
        path: Path,
        queue: str = "submissions",
        lock_seconds: float = 30.0,
        max_delivery_count: int = 10,
        poll_interval: float = 0.05,
        busy_timeout_seconds: float = 2.0,
    ) -> None:
        self._db = SqliteDatabase(path, SCHEMA, busy_timeout_seconds)
        self._queue = queue
        self._lock_seconds = lock_seconds
        self._max_delivery_count = max_delivery_count
        self._poll_interval = poll_interval

    async def open(self) -> None:
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> None:
        """Ready means writable: take the write lock (an empty transaction), not just read."""
        await self._db.write(lambda connection: None)

    async def publish(self, event: CloudEvent) -> None:
        await self.publish_batch([event])

    async def publish_batch(self, events: Sequence[CloudEvent]) -> None:
        """One transaction: all of them are sent, or none."""
        await self._send_all([(event.id, event.to_json(), _properties(event)) for event in events])

    async def send(self, message_id: str, body: str, properties: dict[str, str]) -> None:
        await self._send_all([(message_id, body, properties)])

    async def _send_all(self, messages: list[tuple[str, str, dict[str, str]]]) -> None:
        now = time.time()
        rows = [
            (self._queue, message_id, body, json.dumps(properties), now, now)
            for message_id, body, properties in messages
        ]
        # One statement for them all (a JSON array of rows): one return to Python, not one per
        # message, each of which waits for the interpreter's lock under load.
        await self._db.write(
            execute(
                "INSERT OR IGNORE INTO messages"
                " (queue, message_id, body, properties, enqueued_at, visible_at)"
                " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,"
                " value ->> 5 FROM json_each(?)",
                (json.dumps(rows),),
            )
        )

    async def receive(self, max_messages: int, wait_seconds: float) -> list[Delivery]:
        deadline = time.monotonic() + wait_seconds
        while True:
            # Poll with a read: only take the write lock (which publishers need too) when a
            # message is there to lock, so an idle consumer does not contend with them.
            deliveries = (
                await self._db.write(lambda c: self._lock_ready(c, max_messages))
                if await self._db.read(self._any_visible)
                else []
            )
            if deliveries or time.monotonic() >= deadline:
                return deliveries
            await asyncio.sleep(self._poll_interval)

    def _any_visible(self, connection: sqlite3.Connection) -> bool:
        row = connection.execute(
            "SELECT 1 FROM messages WHERE queue = ? AND dead_lettered_at IS NULL"
            " AND visible_at <= ? LIMIT 1",
            (self._queue, time.time()),
        ).fetchone()
        return row is not None

    def _lock_ready(self, connection: sqlite3.Connection, limit: int) -> list[Delivery]:
        """Lock the oldest visible messages; the index hands them over in order, so this costs
        the same with ten messages waiting as with ten thousand."""
        now = time.time()
        rows = connection.execute(
            "SELECT seq, delivery_count FROM messages WHERE queue = ? AND dead_lettered_at IS NULL"
            " AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
            (self._queue, now, limit),
        ).fetchall()
        deliveries = []
        for row in rows:
            if row["delivery_count"] >= self._max_delivery_count:
                # Its lock expired after the last allowed delivery: to the DLQ, not redelivered.
                self._dead_letter_spent(connection, row["seq"], now)
                continue
            token = str(random_uuid())
            locked = connection.execute(
                "UPDATE messages SET lock_token = ?, visible_at = ?,"
                " delivery_count = delivery_count + 1 WHERE seq = ?"
                " RETURNING message_id, body, properties, delivery_count",
                (token, now + self._lock_seconds, row["seq"]),
            ).fetchone()
            deliveries.append(
                Delivery(
                    message_id=locked["message_id"],
                    body=locked["body"],
                    delivery_count=locked["delivery_count"],
                    lock_token=token,
                    properties=json.loads(locked["properties"]),
                )
            )
        return deliveries

    def _dead_letter_spent(self, connection: sqlite3.Connection, seq: int, now: float) -> None:
        connection.execute(
            "UPDATE messages SET dead_lettered_at = ?, dead_letter_reason = ?,"
            " dead_letter_description = ?, lock_token = NULL WHERE seq = ?",
            (
                now,
                "MaxDeliveryCountExceeded",
                f"not completed after {self._max_delivery_count} deliveries",
                seq,
            ),
        )

    async def complete(self, delivery: Delivery) -> None:
        await self._db.write(
            execute("DELETE FROM messages WHERE lock_token = ?", (delivery.lock_token,))
        )

    async def abandon(self, delivery: Delivery) -> None:
        await self._db.write(
            execute(
                "UPDATE messages SET visible_at = ?, lock_token = NULL WHERE lock_token = ?",
                (time.time(), delivery.lock_token),
            )
        )

    async def dead_letter(self, delivery: Delivery, reason: str, description: str) -> None:
        await self._db.write(
            execute(
                "UPDATE messages SET dead_lettered_at = ?, dead_letter_reason = ?,"
                " dead_letter_description = ?, lock_token = NULL WHERE lock_token = ?",
                (time.time(), reason, description[:1024], delivery.lock_token),
            )
        )

    async def dead_letters(self) -> list[DeadLetter]:
        return [letter for _, letter in await self._dead_letter_rows()]

    async def _dead_letter_rows(self) -> list[tuple[int, DeadLetter]]:
        rows = await self._db.read(
            lambda connection: connection.execute(
                "SELECT * FROM messages WHERE queue = ? AND dead_lettered_at IS NOT NULL"
                " ORDER BY seq",
                (self._queue,),
            ).fetchall()
        )
        return [
            (
                row["seq"],
                DeadLetter(
                    row["message_id"],
                    row["body"],
                    row["dead_letter_reason"],
                    row["dead_letter_description"],
                    row["delivery_count"],
                    datetime.fromtimestamp(row["enqueued_at"], UTC),
                ),
            )
            for row in rows
        ]

    async def purge_dead_letters(
        self, doomed: Callable[[DeadLetter], Awaitable[bool]]
    ) -> list[DeadLetter]:
        """Delete each dead letter ``doomed`` picks, as it picks it. Nothing is locked while it
        decides, so the others stay replayable throughout; one replayed meanwhile is left alone.
        Freed pages are zeroed and the write-ahead log emptied, as for an erasure."""
        removed: list[DeadLetter] = []
        try:
            for seq, letter in await self._dead_letter_rows():
                if not await doomed(letter):
                    continue
                deleted = await self._db.write(
                    execute(
                        "DELETE FROM messages WHERE seq = ? AND dead_lettered_at IS NOT NULL",
                        (seq,),
                    )
                )
                if deleted:
                    removed.append(letter)
        finally:
            if removed:
                await self._db.empty_wal()
        return removed

    async def replay_dead_letters(self) -> int:
        """Move every dead-lettered message back to the queue with a fresh delivery count."""
        moved = await self._db.write(
            execute(
                "UPDATE messages SET dead_lettered_at = NULL, dead_letter_reason = NULL,"
                " dead_letter_description = NULL, delivery_count = 0, lock_token = NULL,"
                " visible_at = ? WHERE queue = ? AND dead_lettered_at IS NOT NULL",
                (time.time(), self._queue),
            )
        )
        return moved

    async def purge_subject(self, subject: str) -> int:
        """Delete every message of this queue (waiting, locked or dead-lettered) whose CloudEvent
        ``subject`` is ``subject`` (a Client ID), for an erasure. Returns how many went.

        A message a worker holds right now goes too; its ``complete`` then finds nothing, which
        is harmless. Freed pages are zeroed and the write-ahead log emptied, so the bodies do not
        linger on disk.
        """

        def purge(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                # A body that is not JSON (a poison message) has no subject, and must not fail.
                "DELETE FROM messages WHERE queue = ?"
                " AND CASE WHEN json_valid(body) THEN json_extract(body, '$.subject') END = ?",
                (self._queue, subject),
            )
            return int(cursor.rowcount)

        purged = await self._db.write(purge)
        await self._db.empty_wal()
        return purged

    async def depth(self) -> int:
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT count(*) FROM messages WHERE queue = ? AND dead_lettered_at IS NULL",
                (self._queue,),
            ).fetchone()
        )
        return int(row[0])

    async def message_counts(self) -> MessageCounts:
        """This queue's messages by state, read at once (the notify worker's queue metrics)."""
        now = time.time()
        row = await self._db.read(
            lambda connection: connection.execute(
                "SELECT count(*) FILTER (WHERE dead_lettered_at IS NULL AND visible_at <= ?),"
                " count(*) FILTER (WHERE dead_lettered_at IS NULL AND visible_at > ?),"
                " count(*) FILTER (WHERE dead_lettered_at IS NOT NULL)"
                " FROM messages WHERE queue = ?",
                (now, now, self._queue),
            ).fetchone()
        )
        return MessageCounts(ready=int(row[0]), locked=int(row[1]), dead_lettered=int(row[2]))


@dataclass(frozen=True)
class MessageCounts:
    """A queue's messages by state, like Service Bus's message counts.

    ``ready``: waiting for a consumer (a message whose lock expired is ready again);
    ``locked``: delivered and not yet settled; ``dead_lettered``: in the dead-letter queue.
    """

    ready: int
    locked: int
    dead_lettered: int
