"""One thread and the calls waiting for it, taken in batches.

Blocking work (SQLite, the mailbox's files) runs off the event loop on a thread of its own. Under
load the event loop's thread holds the interpreter's lock most of the time, and every hand-over
to or from another thread is a wait for that lock: one hand-over per call made those waits most
of the work. So the thread takes every call that arrived while it was busy as one batch, and the
batch's results go back to the event loop in one hand-over.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Call(Generic[T]):
    """A call waiting for its lane's thread."""

    item: Any  # what the lane's batch runner is given for this call
    kind: Any  # how the batch runner may group it with its neighbours (None: alone)
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop


# What became of one call: (call, succeeded, its result or its exception).
Outcome = tuple[Call[Any], bool, Any]
RunBatch = Callable[[list[Call[Any]]], list[Outcome]]


def _deliver(outcomes: list[Outcome]) -> None:
    """On the event loop: hand each caller its result (unless it was cancelled meanwhile)."""
    for call, ok, value in outcomes:
        if call.future.done():
            continue
        if ok:
            call.future.set_result(value)
        else:
            call.future.set_exception(value)


def _settle(outcomes: list[Outcome]) -> None:
    """One hand-over per event loop for the whole batch, not one per call: each hand-over
    wakes the loop, and the thread needs the interpreter's lock for each."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, delivered in by_loop.items():
        loop.call_soon_threadsafe(_deliver, delivered)


def run_each(work: Callable[[Any], Any]) -> RunBatch:
    """A batch runner that calls ``work(item)`` for each call in turn, each failing alone."""

    def run_batch(batch: list[Call[Any]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for call in batch:
            try:
                outcomes.append((call, True, work(call.item)))
            except Exception as error:
                outcomes.append((call, False, error))
        return outcomes

    return run_batch


class Lane:
    """One thread; ``run_batch`` runs, on it, every call that arrived while it was busy."""

    def __init__(self, name: str, run_batch: RunBatch, closed: Callable[[], Exception]) -> None:
        """``closed`` makes the exception a call raises once the lane is closed."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._run_batch = run_batch
        self._closed = closed
        self._pending: list[Call[Any]] = []
        self._pending_lock = threading.Lock()
        self._flush_scheduled = False

    async def call(self, item: object, kind: object = None) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._pending_lock:
            self._pending.append(Call(item, kind, future, loop))
            schedule, self._flush_scheduled = not self._flush_scheduled, True
        if schedule:
            try:
                self._pool.submit(self._flush)
            except RuntimeError as error:  # the pool is shut down: the lane was closed
                self._flush_scheduled = False
                self._pending.clear()
                raise self._closed() from error
        return await future

    def _flush(self) -> None:
        with self._pending_lock:
            batch, self._pending = self._pending, []
            self._flush_scheduled = False
        # A caller that gave up (cancelled, timed out) must not have its work done later.
        batch = [call for call in batch if not call.future.done()]
        if batch:
            _settle(self._run_batch(batch))

    async def close(self, last: Callable[[], None] | None = None) -> None:
        """Finish the calls already made, run ``last`` on the thread (an sqlite3 connection
        may only be closed on the thread that opened it), then stop the thread."""
        if last is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, last)
        self._pool.shutdown(wait=True)
