"""Run blocking sqlite3 work off the event loop, each write atomic.

Each database gets one writer thread (SQLite allows one writer at a time anyway) and one reader
thread. A call hands a plain function the connection; because the function runs start to finish
on that thread inside its own savepoint, no other coroutine can interleave with it. Writes that
queue up while the writer is busy share one commit (group commit).

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
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from intake_core.ports import StoreUnavailable

T = TypeVar("T")

# How long the writer pauses between attempts at another process's write lock: short at first,
# growing to a cap, with jitter so two waiting processes do not retry in step.
_FIRST_LOCK_PAUSE_SECONDS = 0.0001
_LONGEST_LOCK_PAUSE_SECONDS = 0.002
CHECKPOINT_INTERVAL_SECONDS = 1.0
# A cursor freed on the event loop's thread resets its statement there, while this thread may
# be running that same cached statement again: SQLite answers SQLITE_MISUSE ("bad parameter or
# other API misuse"), seen under load with executemany, whose cursor keeps its statement.
_CURSOR_ESCAPES = "a write must return plain values, not its cursor (see execute())"


def execute(sql: str, parameters: Sequence[Any] = ()) -> Callable[[sqlite3.Connection], int]:
    """A write of one statement; it returns how many rows the statement changed."""
    return lambda connection: connection.execute(sql, parameters).rowcount


def execute_many(sql: str, rows: Iterable[Sequence[Any]]) -> Callable[[sqlite3.Connection], int]:
    """A write of one statement per row of parameters; it returns how many rows they changed."""
    return lambda connection: connection.executemany(sql, rows).rowcount


def utc_text(moment: datetime) -> str:
    """Timestamps as fixed-width UTC ISO text, so they sort as strings."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class _Write(Generic[T]):
    work: Callable[[sqlite3.Connection], T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop

    def settle(self, ok: bool, value: Any) -> None:
        def deliver() -> None:
            if self.future.done():  # the caller was cancelled
                return
            if ok:
                self.future.set_result(value)
            else:
                self.future.set_exception(value)

        self.loop.call_soon_threadsafe(deliver)


class SqliteDatabase:
    def __init__(self, path: Path, schema: str, busy_timeout_seconds: float = 2.0) -> None:
        self._path = path
        self._schema = schema
        # How long a write waits for another process's lock before the store counts as down.
        # Short, so a stuck lock answers 503 with Retry-After in seconds, not a hung request.
        self._busy_timeout = busy_timeout_seconds
        self._writer_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{path.stem}-w")
        self._reader_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{path.stem}-r")
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._pending: list[_Write[Any]] = []
        self._pending_lock = threading.Lock()
        self._flush_scheduled = False
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
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
        transaction, each inside its own savepoint, so one failing write rolls back alone and the
        others still commit. Under load that turns many small commits into a few larger ones.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._pending_lock:
            self._pending.append(_Write(work, future, loop))
            schedule, self._flush_scheduled = not self._flush_scheduled, True
        if schedule:
            try:
                self._writer_pool.submit(self._flush)
            except RuntimeError as error:  # the pool is shut down: the store was closed
                self._flush_scheduled = False
                self._pending.clear()
                raise StoreUnavailable("the store is closed") from error
        try:
            return await future
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as error:
            raise StoreUnavailable(str(error)) from error

    def _flush(self) -> None:
        """On the writer thread: run every pending write in one transaction."""
        with self._pending_lock:
            batch, self._pending = self._pending, []
            self._flush_scheduled = False
        # A caller that gave up (cancelled, timed out) must not have its write committed later.
        batch = [write for write in batch if not write.future.done()]
        if not batch:
            return
        outcomes: list[tuple[_Write[Any], bool, Any]] = []
        try:
            connection = self._writer_connection()
            self._begin(connection)
            for write in batch:
                connection.execute("SAVEPOINT one_write")
                try:
                    result = write.work(connection)
                    if isinstance(result, sqlite3.Cursor):
                        raise TypeError(_CURSOR_ESCAPES)
                except Exception as error:
                    connection.execute("ROLLBACK TO one_write")
                    connection.execute("RELEASE one_write")
                    outcomes.append((write, False, error))
                else:
                    connection.execute("RELEASE one_write")
                    outcomes.append((write, True, result))
            connection.execute("COMMIT")
        except Exception as error:
            # BEGIN or COMMIT failed (locked, disk, closed): nothing in the batch was written.
            with contextlib.suppress(Exception):
                if self._writer is not None and self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
            outcomes = [(write, False, error) for write in batch]
        for write, ok, value in outcomes:
            write.settle(ok, value)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._reader_pool, lambda: work(self._reader_connection()))

    async def _run(self, pool: ThreadPoolExecutor, call: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as error:
            raise StoreUnavailable(str(error)) from error

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        self._closing.set()
        if self._checkpointer is not None:
            await loop.run_in_executor(None, self._checkpointer.join)
        # sqlite3 connections may only be used, and closed, on the thread that opened them.
        if self._writer is not None:
            await loop.run_in_executor(self._writer_pool, self._writer.close)
        if self._reader is not None:
            await loop.run_in_executor(self._reader_pool, self._reader.close)
        self._writer = self._reader = None
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)
