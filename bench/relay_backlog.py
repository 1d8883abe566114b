"""How fast the outbox relay empties a backlog, such as a bus outage leaves behind.

``uv run python bench/relay_backlog.py [events]``: saves that many submissions whose events were
never published, then times the relay publishing them all to the embedded queue, each claimed
batch in one publish (as shipped) and one event at a time (the batch path switched off),
alternated, twice each.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from intake_api.relay import OutboxRelay
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.ports.outbox import OutboxItem
from support import stored_event


async def drain(events: int, together: bool, folder: Path) -> str:
    store = SqliteSubmissionStore(folder / "intake.db")
    queue = LocalQueue(folder / "queue.db")
    await store.open()
    await queue.open()
    try:
        await asyncio.gather(*(stored_event(store) for _ in range(events)))
        relay = OutboxRelay(store, queue, owner="bench", batch_size=50)
        if not together:

            async def never(_items: list[OutboxItem]) -> bool:
                return False

            relay._relay_together = never  # type: ignore[method-assign, assignment]
        started, cpu = time.perf_counter(), time.process_time()
        while await relay.run_once():
            pass
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert await queue.depth() == events, "every event published once"
        assert (await store.outbox_stats()).backlog == 0, "and marked"
    finally:
        await queue.close()
        await store.close()
    how = "batch per claim" if together else "one at a time"
    return (
        f"{how:>16}: {events} events in {seconds:.2f} s = {events / seconds:,.0f}/s,"
        f" {cpu / events * 1e6:.0f} µs of CPU each"
    )


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    for _ in range(2):
        for together in (False, True):
            with tempfile.TemporaryDirectory() as folder:
                print(asyncio.run(drain(events, together, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
