"""Run blocking sqlite3 work off the event loop, each write atomic.

Each database gets one writer thread (SQLite allows one writer at a time anyway) and one reader
thread. A call hands a plain function the connection; because the function runs start to finish
on that thread, no other coroutine can interleave with it. Writes that queue up while the writer
is busy share one commit (group commit); reads that queue up while the reader is busy run in
its next turn; and each batch's results go back to the event loop in one hand-over
(:mod:`intake_core.adapters.thread_lane`).

Under load the event loop's thread holds the interpreter's lock most of the time, and the writer
needs it back after every step SQLite takes (each statement, each reset, each hand-over): it
waited milliseconds for each, and those waits, not SQLite, were most of its time and made it
intake-api's bottleneck. So a batch takes as few statements as it can: savepoints only after a
failure, and writes of one kind combined (:meth:`SqliteDatabase.write_combined`), such as new
submissions, which share one ``INSERT`` per table.

Checkpoints (copying the write-ahead log into the database file, with an fsync) run on a thread
of their own every second. Left to SQLite, the commit that fills the log runs one itself, and
every request in that group commit waits for it: the slowest answers came from there.

Several processes may write one file (intake-api and the notify worker share the store and the
queue). SQLite's own busy handler waits for another process's lock by sleeping 1, 2, 5, 10, 15,
20, 25 ms and more, so a lock held for half a millisecond can cost a request 30 ms. The writer
therefore takes the lock itself, polling in sub-millisecond steps up to the same deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from intake_core.adapters.thread_lane import Call, Lane, Outcome, run_each
from intake_core.ports.store import StoreUnavailable

T = TypeVar("T")

# How long the writer pauses between attempts at another process's write lock: short at first,
# growing to a cap, with jitter so two waiting processes do not retry in step.
_FIRST_LOCK_PAUSE_SECONDS = 0.0001
_LONGEST_LOCK_PAUSE_SECONDS = 0.002
CHECKPOINT_INTERVAL_SECONDS = 1.0
# How long emptying the write-ahead log after an erasure may wait for readers elsewhere (another
# process, a backup, an operator's sqlite3 shell) before the erasure answers 503 to be repeated.
WAL_TRUNCATE_DEADLINE_SECONDS = 5.0
# A cursor freed on the event loop's thread resets its statement there, while this thread may
# be running that same cached statement again: SQLite answers SQLITE_MISUSE ("bad parameter or
# other API misuse"), seen under load with executemany, whose cursor keeps its statement.
_CURSOR_ESCAPES = "a write must return plain values, not its cursor (see execute())"


def execute(sql: str, parameters: Sequence[Any] = ()) -> Callable[[sqlite3.Connection], int]:
    """A write of one statement; it returns how many rows the statement changed."""
    return lambda connection: connection.execute(sql, parameters).rowcount


# Runs several writes of one kind at once: their items in, one result per item out, in order.
Combine = Callable[[sqlite3.Connection, list[Any]], list[Any]]


def _run_alone(call: Call[T], connection: sqlite3.Connection) -> T:
    if call.kind is None:
        return _run(connection, call.item)
    (result,) = call.kind(connection, [call.item])
    return cast(T, result)


def _closed() -> Exception:
    return StoreUnavailable("the store is closed")


class _Failed(Exception):
    """A write of a batch run together failed: the batch runs again, each write apart."""


def _run(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    result = work(connection)
    if isinstance(result, sqlite3.Cursor):
        raise TypeError(_CURSOR_ESCAPES)
    return result


# The JSON operators (``->>``, 3.38) batch rows into one statement; FTS5's trigram tokenizer
# (3.34) indexes the search text. Debian 12, and so the images, ship 3.40.
MINIMUM_SQLITE = (3, 38)


class SqliteDatabase:
    def __init__(self, path: Path, schema: str, busy_timeout_seconds: float = 2.0) -> None:
        if sqlite3.sqlite_version_info < MINIMUM_SQLITE:
            needed = ".".join(map(str, MINIMUM_SQLITE))
            raise RuntimeError(
                f"the embedded store needs SQLite {needed} or later; this Python has "
                f"{sqlite3.sqlite_version}"
            )
        self._path = path
        self._schema = schema
        # How long a write waits for another process's lock before the store counts as down.
        # Short, so a stuck lock answers 503 with Retry-After in seconds, not a hung request.
        self._busy_timeout = busy_timeout_seconds
        self._writes = Lane(f"{path.stem}-w", self._write_batch, _closed)
        self._reads = Lane(f"{path.stem}-r", self._read_batch, _closed)
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()

    def _connect(self) -> sqlite3.Connection:
        # The files hold personal data: readable by their owner only, whatever the umask. SQLite
        # gives the -wal and -shm files the database file's mode. (A directory or file that
        # already exists keeps its mode: on a mounted volume it is the platform's to set.)
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Only a file that does not exist yet: closing any descriptor of a file drops every POSIX
        # lock this process holds on it, SQLite's among them, so an open database is never
        # opened here.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        connection = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        # Freed pages are zeroed on every connection, whatever SQLite's build default (Debian's
        # is on, others' off): a deleted record or consumed message must not stay on disk.
        connection.execute("PRAGMA secure_delete=ON")
        connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
        return connection

    def _writer_connection(self) -> sqlite3.Connection:
        if self._writer is None:
            writer = self._connect()
            writer.executescript(self._schema)
            # From here on the writer waits for locks in _begin, not in SQLite's busy handler.
            writer.execute("PRAGMA busy_timeout=0")
            writer.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job instead
            self._writer = writer
            self._checkpointer = threading.Thread(
                target=self._checkpoint_forever, name=f"{self._path.stem}-ckpt", daemon=True
            )
            self._checkpointer.start()
        return self._writer

    def _checkpoint_forever(self) -> None:
        """PASSIVE: copies what no reader still needs, never waits for or blocks a writer."""
        connection: sqlite3.Connection | None = None
        try:
            while not self._closing.wait(CHECKPOINT_INTERVAL_SECONDS):
                try:
                    connection = connection or self._connect()
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # locked by another process, say: the next round tries again
        finally:
            if connection is not None:
                connection.close()

    def _begin(self, connection: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, retried in short pauses while another process holds the lock."""
        deadline = time.monotonic() + self._busy_timeout
        pause = _FIRST_LOCK_PAUSE_SECONDS
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not a secret
            pause = min(pause * 2, _LONGEST_LOCK_PAUSE_SECONDS)

    def _reader_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = self._connect()
        return self._reader

    async def open(self) -> None:
        await self.write(lambda _connection: None)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` atomically; its changes are committed when this returns.

        Group commit: writes that arrive while the writer thread is busy are run together in one
        transaction. Under load that turns many small commits into a few larger ones. If one of
        them fails, the transaction is rolled back and the batch runs again with a savepoint per
        write, so the failing write rolls back alone and the others still commit. ``work`` may
        therefore run twice, the first run undone: it must act only through the connection.
        """
        return await self._submit(work, None)

    async def write_combined(
        self, item: object, combine: Callable[[sqlite3.Connection, list[Any]], list[T]]
    ) -> T:
        """Like :meth:`write`, for a kind of write that runs faster many at a time: the items
        given with one ``combine`` that follow each other in a batch go to it in one call, which
        returns one result per item, in order. It must have the effect of one call per item. If
        it fails, each item runs again alone, ``combine(connection, [item])``, in a savepoint.
        """
        return await self._submit(item, combine)

    async def _submit(self, item: object, combine: Combine | None) -> T:
        return await _store_errors(self._writes.call(item, combine))

    def _write_batch(self, batch: list[Call[Any]]) -> list[Outcome]:
        """On the writer thread: run the batch's writes in one transaction."""
        try:
            connection = self._writer_connection()
            self._begin(connection)
            try:
                outcomes = self._run_together(connection, batch)
            except _Failed:
                connection.execute("ROLLBACK")
                self._begin(connection)
                outcomes = self._run_apart(connection, batch)
            connection.execute("COMMIT")
        except Exception as error:
            # BEGIN or COMMIT failed (locked, disk, closed), or a write alone in its batch did:
            # nothing in the batch was written.
            with contextlib.suppress(Exception):
                if self._writer is not None and self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
            return [(write, False, error) for write in batch]
        return outcomes

    @staticmethod
    def _run_together(connection: sqlite3.Connection, batch: list[Call[Any]]) -> list[Outcome]:
        """Every write straight into the transaction, writes of one kind combined. Writes rarely
        fail, and a savepoint per write cost two statements each, every one a wait for the
        interpreter's lock under load."""
        if len(batch) == 1:  # alone, a failure is simply the batch's: the rollback undoes it
            return [(batch[0], True, _run_alone(batch[0], connection))]
        outcomes: list[Outcome] = []
        for combine, group in itertools.groupby(batch, key=lambda write: write.kind):
            writes = list(group)
            try:
                if combine is None:
                    results = [_run(connection, write.item) for write in writes]
                else:
                    results = combine(connection, [write.item for write in writes])
            except Exception as error:
                raise _Failed from error
            outcomes.extend(
                (write, True, result) for write, result in zip(writes, results, strict=True)
            )
        return outcomes

    @staticmethod
    def _run_apart(connection: sqlite3.Connection, batch: list[Call[Any]]) -> list[Outcome]:
        """Each write inside its own savepoint, so one that fails rolls back alone."""
        outcomes: list[Outcome] = []
        for write in batch:
            connection.execute("SAVEPOINT one_write")
            try:
                result = _run_alone(write, connection)
            except Exception as error:
                connection.execute("ROLLBACK TO one_write")
                outcomes.append((write, False, error))
            else:
                outcomes.append((write, True, result))
            connection.execute("RELEASE one_write")
        return outcomes

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on the reader thread. Reads that queue up meanwhile run one after the
        other in one turn of the thread, their results handed back together."""
        return cast(T, await _store_errors(self._reads.call(work, None)))

    def _read_batch(self, batch: list[Call[Any]]) -> list[Outcome]:
        try:
            connection = self._reader_connection()
        except Exception as error:
            return [(read, False, error) for read in batch]
        return run_each(lambda work: _run(connection, work))(batch)

    async def empty_wal(self) -> None:
        """Move every page into the database file and truncate the write-ahead log, which still
        holds the old page images of what was just deleted (an erasure's personal data).

        A reader anywhere holding an older snapshot stops the checkpoint short, and SQLite says
        so only in its answer: it is tried again until ``WAL_TRUNCATE_DEADLINE_SECONDS``, then
        :class:`StoreUnavailable`, so the erasure answers 503 and a repeat finishes it."""
        deadline = time.monotonic() + WAL_TRUNCATE_DEADLINE_SECONDS
        pause = 0.05
        while True:
            busy, in_log, moved = await self.read(
                lambda connection: tuple(
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                )
            )
            if not busy and in_log == moved:
                return
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"{self._path.name}: a reader held the write-ahead log past the deadline"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.join)
        await self._writes.close(self._writer.close if self._writer else None)
        await self._reads.close(self._reader.close if self._reader else None)
        self._writer = self._reader = None


async def _store_errors(call: Awaitable[T]) -> T:
    """A constraint broken is the caller's to handle; any other database error means the
    store is unavailable."""
    try:
        return await call
    except sqlite3.IntegrityError:
        raise
    except (sqlite3.OperationalError, sqlite3.DatabaseError) as error:
        raise StoreUnavailable(str(error)) from error
