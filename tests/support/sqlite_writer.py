"""Make an embedded database's writer take many writes as one batch, for tests of batching."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

from intake_core.adapters.sqlite_base import SqliteDatabase


@contextlib.asynccontextmanager
async def writer_held(db: SqliteDatabase) -> AsyncIterator[None]:
    """Writes queued inside the block run as one batch after it.

    The writer thread is kept busy in a slow write for the whole block: entered only once the
    thread is inside it, so no write queued in the block can slip into its batch.
    """
    started, gate = threading.Event(), threading.Event()

    def hold(_connection: object) -> None:
        started.set()
        gate.wait(5)

    held = asyncio.create_task(db.write(hold))
    await asyncio.to_thread(started.wait, 5)
    try:
        yield
        await asyncio.sleep(0.05)  # the writes' tasks run up to their queueing
    finally:
        gate.set()
        await held
