"""Make an embedded database's thread take many calls as one batch, for tests of batching."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from intake_core.adapters.sqlite_base import SqliteDatabase


@contextlib.asynccontextmanager
async def thread_held(
    submit: Callable[[Callable[[Any], None]], Awaitable[None]],
) -> AsyncIterator[None]:
    """Calls queued inside the block (``db.write`` or ``db.read``, as ``submit``) run as one
    batch after it.

    The thread is kept busy in a slow call for the whole block: entered only once the thread
    is inside it, so no call queued in the block can slip into its batch.
    """
    started, gate = threading.Event(), threading.Event()

    def hold(_connection: object) -> None:
        started.set()
        gate.wait(5)

    held = asyncio.ensure_future(submit(hold))
    await asyncio.to_thread(started.wait, 5)
    try:
        yield
        await asyncio.sleep(0.05)  # the calls' tasks run up to their queueing
    finally:
        gate.set()
        await held


def writer_held(db: SqliteDatabase) -> contextlib.AbstractAsyncContextManager[None]:
    """Writes queued inside the block run as one batch (one transaction) after it."""
    return thread_held(db.write)
