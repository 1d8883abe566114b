"""Run blocking sqlite3 work off the event loop, one whole transaction per call.

Each database gets one writer thread (SQLite allows one writer at a time anyway) and one reader
thread. A call hands a plain function the connection; because the function runs start to finish
on that thread, no other coroutine can interleave with its transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from intake_core.ports import StoreUnavailable

T = TypeVar("T")


def utc_text(moment: datetime) -> str:
    """Timestamps as fixed-width UTC ISO text, so they sort as strings."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SqliteDatabase:
    def __init__(self, path: Path, schema: str) -> None:
        self._path = path
        self._schema = schema
        self._writer_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{path.stem}-w")
        self._reader_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{path.stem}-r")
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, timeout=10, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=10000")
        return connection

    def _writer_connection(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = self._connect()
            self._writer.executescript(self._schema)
        return self._writer

    def _reader_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = self._connect()
        return self._reader

    async def open(self) -> None:
        await self.write(lambda _connection: None)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` inside ``BEGIN IMMEDIATE … COMMIT`` on the writer thread."""

        def transaction() -> T:
            connection = self._writer_connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        return await self._run(self._writer_pool, transaction)

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
        # sqlite3 connections may only be used, and closed, on the thread that opened them.
        if self._writer is not None:
            await loop.run_in_executor(self._writer_pool, self._writer.close)
        if self._reader is not None:
            await loop.run_in_executor(self._reader_pool, self._reader.close)
        self._writer = self._reader = None
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)
