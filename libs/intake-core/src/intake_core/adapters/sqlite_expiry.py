"""Expired rows in the embedded store and its ledger, purged as Cosmos DB's TTLs would expire them.

Published events, idempotency keys and ledger entries are kept as long as in Cosmos DB, then
purged oldest first, a window of rows per transaction (see :class:`_OldestFirst`).
"""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from intake_core.adapters.sqlite_base import SqliteDatabase
from intake_core.domain.utc import utc_text
from intake_core.ports.lifetimes import (
    IDEMPOTENCY_KEY_TTL_SECONDS,
    LEDGER_TTL_SECONDS,
    PUBLISHED_EVENT_TTL_SECONDS,
)

# Expired rows (published events, idempotency keys, ledger entries) are purged this many rows at
# a time, each batch its own transaction, so a purge with much to delete never holds the writer
# for long.
PURGE_BATCH = 500


@dataclass(frozen=True)
class _OldestFirst:
    """How a table is purged of expired rows without an index every insert would keep up.

    Its rowid follows insertion, so the order its rows were written in, and a row expires only
    after it is written: every expired row was written before the cutoff. A purge therefore
    walks from the oldest row and stops at the first window holding a row written after the
    cutoff. With nothing to purge it reads one window; with old rows that stay (unpublished
    events), it reads past them once a run. ``expired`` alone decides what goes, so a row out
    of order is at worst purged a run late.
    """

    table: str
    dated_by: str  # when a row was written: the walk stops at a window past the cutoff
    expired: str  # the condition on which a row of the window goes
    kept_seconds: int  # how long a row is kept: the cutoff is this long before now

    @property
    def window(self) -> str:
        """The last rowid, the count and whether any was written after the cutoff, of the
        ``:size`` rows after ``:after``."""
        return (
            f"SELECT max(rowid) AS through, count(*) AS walked,"  # noqa: S608 - fixed names only
            f" max({self.dated_by} >= :cutoff) AS reached_cutoff"
            f" FROM (SELECT rowid, {self.dated_by} FROM {self.table}"
            " WHERE rowid > :after ORDER BY rowid LIMIT :size)"
        )

    @property
    def delete(self) -> str:
        return (
            f"DELETE FROM {self.table}"  # noqa: S608 - fixed names only
            f" WHERE rowid > :after AND rowid <= :through AND {self.expired}"
        )


# An event is published after it is created: ``created_at`` dates the row, ``published_at``
# decides whether it goes (never before it is published).
PUBLISHED_EVENTS = _OldestFirst(
    "outbox",
    "created_at",
    "published_at IS NOT NULL AND published_at < :cutoff",
    PUBLISHED_EVENT_TTL_SECONDS,
)
# A key is written once, with its submission: its ``submitted_at`` is when it was first used,
# from which Cosmos DB counts its TTL too (the item's ``_ts``).
IDEMPOTENCY_KEYS = _OldestFirst(
    "idempotency", "submitted_at", "submitted_at < :cutoff", IDEMPOTENCY_KEY_TTL_SECONDS
)
# An entry is written once, when its event is handled: ``handled_at`` dates it and decides.
HANDLED_EVENTS = _OldestFirst(
    "handled_events", "handled_at", "handled_at < :cutoff", LEDGER_TTL_SECONDS
)


async def purge(db: SqliteDatabase, table: _OldestFirst, now: datetime, batch_size: int) -> int:
    """Walk ``table`` of ``db`` a window at a time, deleting what expired by ``now``."""
    cutoff, after, purged = utc_text(now - timedelta(seconds=table.kept_seconds)), 0, 0
    while True:
        window = await db.write(
            functools.partial(
                _purge_window, table=table, cutoff=cutoff, after=after, size=batch_size
            )
        )
        purged += window.purged
        if window.last:
            return purged
        after = window.through


@dataclass(frozen=True)
class _PurgedWindow:
    purged: int
    through: int
    last: bool


def _purge_window(
    connection: sqlite3.Connection, *, table: _OldestFirst, cutoff: str, after: int, size: int
) -> _PurgedWindow:
    """Delete the rows expired before ``cutoff`` among the ``size`` rows after ``after``."""
    window = connection.execute(table.window, {"cutoff": cutoff, "after": after, "size": size})
    through, walked, reached_cutoff = window.fetchone()
    if not walked:
        return _PurgedWindow(0, after, last=True)
    parameters = {"cutoff": cutoff, "after": after, "through": through}
    purged = connection.execute(table.delete, parameters).rowcount
    return _PurgedWindow(purged, through, last=bool(reached_cutoff) or walked < size)
