"""A lane's thread takes the calls that waited while it was busy as one batch."""

from __future__ import annotations

import asyncio
import threading

import pytest

from intake_core.adapters.thread_lane import Call, Lane, Outcome, run_each


class Recorder:
    """A batch runner that records each batch, and can be held busy."""

    def __init__(self) -> None:
        self.batches: list[list[object]] = []
        self.busy = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, batch: list[Call[object]]) -> list[Outcome]:
        self.busy.set()
        self.release.wait(timeout=5)
        self.batches.append([call.item for call in batch])
        return [(call, True, f"done {call.item}") for call in batch]


async def hold_busy(lane: Lane, recorder: Recorder) -> asyncio.Task[object]:
    recorder.release.clear()
    first = asyncio.ensure_future(lane.call("first"))
    await asyncio.to_thread(recorder.busy.wait, 5)
    return first


async def test_calls_made_while_the_thread_is_busy_run_as_one_batch() -> None:
    recorder = Recorder()
    lane = Lane("test", recorder, lambda: RuntimeError("closed"))
    first = await hold_busy(lane, recorder)
    waiting = [asyncio.ensure_future(lane.call(number)) for number in range(10)]
    await asyncio.sleep(0.01)
    recorder.release.set()
    assert await first == "done first"
    assert await asyncio.gather(*waiting) == [f"done {number}" for number in range(10)]
    assert recorder.batches == [["first"], list(range(10))]
    await lane.close()


async def test_a_call_given_up_before_its_turn_is_not_run() -> None:
    recorder = Recorder()
    lane = Lane("test", recorder, lambda: RuntimeError("closed"))
    first = await hold_busy(lane, recorder)
    kept = asyncio.ensure_future(lane.call("kept"))
    dropped = asyncio.ensure_future(lane.call("dropped"))
    await asyncio.sleep(0.01)
    dropped.cancel()
    await asyncio.sleep(0)
    recorder.release.set()
    await first
    assert await kept == "done kept"
    assert recorder.batches == [["first"], ["kept"]]
    await lane.close()


async def test_run_each_fails_each_call_alone() -> None:
    def work(item: int) -> int:
        if item == 2:
            raise ValueError("two")
        return item * 10

    lane = Lane("test", run_each(work), lambda: RuntimeError("closed"))
    outcomes = await asyncio.gather(*(lane.call(item) for item in range(4)), return_exceptions=True)
    assert outcomes[:2] == [0, 10]
    assert isinstance(outcomes[2], ValueError)
    assert outcomes[3] == 30
    await lane.close()


async def test_a_closed_lane_raises_its_closed_error() -> None:
    lane = Lane("test", run_each(lambda item: item), lambda: LookupError("gone"))
    await lane.close()
    with pytest.raises(LookupError, match="gone"):
        await lane.call(1)
