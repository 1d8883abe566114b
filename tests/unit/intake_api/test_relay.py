"""The outbox relay over the real SQLite store and queue: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from intake_api.metrics import ApiMetrics
from intake_api.relay import BACKOFF_CAP_SECONDS, OutboxRelay, backoff_seconds, relay_owner
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import CloudEvent, submission_created
from intake_core.ports.intake import Idempotency
from intake_core.ports.outbox import PurgedItems
from intake_core.ports.store import StoreUnavailable
from support import make_submission


class FlakyPublisher:
    """A fake bus front: fails the first ``failures`` publishes, then forwards to the real
    LocalQueue. A fake, because the embedded queue cannot be made to fail on demand."""

    def __init__(self, queue: LocalQueue, failures: int) -> None:
        self._queue = queue
        self.failures_left = failures
        self.published: list[str] = []

    async def publish(self, event: CloudEvent) -> None:
        await self.publish_batch([event])

    async def publish_batch(self, events: list[CloudEvent]) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("bus unreachable")
        await self._queue.publish_batch(events)
        self.published.extend(event.id for event in events)

    async def close(self) -> None: ...


class RecordingPublisher:
    """The real queue, with a record of each call: ``("batch", ids)`` or ``("one", id)``.
    ``refused`` names events the bus turns down, alone or in a batch (too large, say)."""

    def __init__(self, queue: LocalQueue, refused: frozenset[str] = frozenset()) -> None:
        self._queue = queue
        self._refused = refused
        self.calls: list[tuple[str, object]] = []

    async def publish(self, event: CloudEvent) -> None:
        self.calls.append(("one", event.id))
        if event.id in self._refused:
            raise ValueError("message too large")
        await self._queue.publish(event)

    async def publish_batch(self, events: list[CloudEvent]) -> None:
        self.calls.append(("batch", [event.id for event in events]))
        if self._refused & {event.id for event in events}:
            raise ValueError("message too large")
        await self._queue.publish_batch(events)

    async def close(self) -> None: ...


async def test_publishes_saved_events_and_marks_them(store, queue, save_submission) -> None:
    events = [await save_submission() for _ in range(3)]
    relay = OutboxRelay(store, queue, owner="test", batch_size=10)

    assert await relay.run_once() == 3
    assert (await store.outbox_stats()).backlog == 0
    assert await relay.run_once() == 0
    deliveries = await queue.receive(10, wait_seconds=0)
    assert sorted(d.message_id for d in deliveries) == sorted(e.id for e in events)


async def test_events_younger_than_the_minimum_age_are_left_to_the_fast_path(
    store, queue, save_submission
) -> None:
    await save_submission()
    assert await OutboxRelay(store, queue, owner="test", min_age_seconds=60).run_once() == 0
    assert await queue.depth() == 0
    assert await OutboxRelay(store, queue, owner="test").run_once() == 1


async def test_publish_latency_and_counts_are_measured(store, queue, save_submission) -> None:
    metrics = ApiMetrics()
    for _ in range(2):
        await save_submission()
    await OutboxRelay(store, queue, owner="test", metrics=metrics).run_once()
    text = metrics.exposition().decode()
    assert 'intake_relay_publish_duration_seconds_count{path="relay"} 1.0' in text  # one call
    assert 'intake_relay_published_total{path="relay"} 2.0' in text


async def test_a_claimed_batch_goes_out_in_one_publish(store, queue, save_submission) -> None:
    events = [await save_submission() for _ in range(5)]
    publisher = RecordingPublisher(queue)

    assert await OutboxRelay(store, publisher, owner="test", batch_size=10).run_once() == 5
    assert publisher.calls == [("batch", [event.id for event in events])]
    assert (await store.outbox_stats()).backlog == 0
    assert await queue.depth() == 5


async def test_after_a_failed_batch_each_event_goes_alone(store, queue, save_submission) -> None:
    events = [await save_submission() for _ in range(4)]
    refused = events[1].id
    publisher = RecordingPublisher(queue, refused=frozenset({refused}))
    delays: list[int] = []

    def backoff(attempts: int) -> float:
        delays.append(attempts)
        return 60.0

    relay = OutboxRelay(store, publisher, owner="test", batch_size=10, backoff=backoff)
    assert await relay.run_once() == 4
    assert publisher.calls == [
        ("batch", [event.id for event in events]),
        *(("one", event.id) for event in events),
    ]
    # The refused event backs off on its own; the other three are on the bus, marked once.
    assert delays == [1]
    assert (await store.outbox_stats()).backlog == 1
    deliveries = await queue.receive(10, wait_seconds=0)
    assert sorted(d.message_id for d in deliveries) == sorted(
        event.id for event in events if event.id != refused
    )


async def test_each_event_of_a_batch_has_its_publish_span_in_its_own_trace(
    store, queue, save_submission, tracer_provider: TracerProvider
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_ids = [f"{n:032x}" for n in range(1, 4)]
    events = [await save_submission(f"00-{trace_id}-{1:016x}-01") for trace_id in trace_ids]

    await OutboxRelay(store, queue, owner="test", batch_size=10).run_once()
    publishes = [span for span in exporter.get_finished_spans() if span.name == "outbox.publish"]
    exporter.shutdown()  # records nothing more, for the tests after this one
    by_event = {span.attributes["messaging.message.id"]: span for span in publishes}
    assert sorted(by_event) == sorted(event.id for event in events)
    for event, trace_id in zip(events, trace_ids, strict=True):
        span = by_event[event.id]
        assert f"{span.context.trace_id:032x}" == trace_id
        assert span.parent is not None and span.parent.span_id == 1
        assert span.attributes["messaging.batch.message_count"] == 3


async def test_publishes_exactly_once_after_the_bus_recovers(store, queue, save_submission) -> None:
    event = await save_submission()
    publisher = FlakyPublisher(queue, failures=3)
    attempts_seen: list[int] = []

    def no_wait(attempts: int) -> float:
        attempts_seen.append(attempts)
        return 0.0

    relay = OutboxRelay(store, publisher, owner="test", backoff=no_wait)
    for _ in range(3):
        assert await relay.run_once() == 1
        assert (await store.outbox_stats()).backlog == 1
    assert await relay.run_once() == 1
    assert await relay.run_once() == 0

    assert attempts_seen == [1, 2, 3]
    assert publisher.published == [event.id]
    assert (await store.outbox_stats()).backlog == 0
    assert await queue.depth() == 1
    [delivery] = await queue.receive(10, wait_seconds=0)
    assert CloudEvent.from_json(delivery.body).id == event.id


async def test_a_failed_event_waits_for_its_backoff(store, queue, save_submission) -> None:
    await save_submission()
    relay = OutboxRelay(store, FlakyPublisher(queue, failures=1), owner="test")

    assert await relay.run_once() == 1  # fails, released with at least 0.5 s of backoff
    assert await relay.run_once() == 0
    assert (await store.outbox_stats()).backlog == 1


async def test_two_relays_publish_each_event_once(tmp_path, store, queue, save_submission) -> None:
    events = [await save_submission() for _ in range(40)]
    # A second connection to the same file, as a second replica would have.
    other_store = SqliteSubmissionStore(tmp_path / "intake.db")
    await other_store.open()
    published: Counter[str] = Counter()

    class CountingPublisher:
        async def publish(self, event: CloudEvent) -> None:
            await self.publish_batch([event])

        async def publish_batch(self, events: list[CloudEvent]) -> None:
            published.update(event.id for event in events)
            await asyncio.sleep(0)  # let the other relay run between publishes
            await queue.publish_batch(events)

        async def close(self) -> None: ...

    relays = [
        OutboxRelay(store, CountingPublisher(), owner=relay_owner(), batch_size=7),
        OutboxRelay(other_store, CountingPublisher(), owner=relay_owner(), batch_size=7),
    ]
    assert relays[0].owner != relays[1].owner

    async def drain(relay: OutboxRelay) -> int:
        total = 0
        while claimed := await relay.run_once():
            total += claimed
        return total

    try:
        claimed = await asyncio.gather(*(drain(relay) for relay in relays))
    finally:
        await other_store.close()

    assert sum(claimed) == 40
    assert set(published) == {event.id for event in events}
    assert set(published.values()) == {1}
    assert await queue.depth() == 40


async def test_an_abandoned_lease_is_taken_over(store, queue, save_submission) -> None:
    event = await save_submission()
    # A relay that claimed the event and died before publishing it.
    # A lease of a second: the survivor's first claim must land inside it on a loaded machine.
    await store.claim_outbox("crashed-relay", limit=10, lease_seconds=1.0)
    survivor = OutboxRelay(store, queue, owner="survivor")

    assert await survivor.run_once() == 0
    await asyncio.sleep(1.1)
    assert await survivor.run_once() == 1
    [delivery] = await queue.receive(10, wait_seconds=0)
    assert delivery.message_id == event.id


async def test_run_forever_survives_store_and_bus_failures(store, queue, save_submission) -> None:
    event = await save_submission()

    class StoreDownOnce:
        """Wraps the real store; its first claim fails as if the database were unreachable."""

        def __init__(self) -> None:
            self.failed = False

        def __getattr__(self, name: str):
            return getattr(store, name)

        async def claim_outbox(self, owner: str, limit: int, lease_seconds: float, **options):
            if not self.failed:
                self.failed = True
                raise StoreUnavailable("database is locked")
            return await store.claim_outbox(owner, limit, lease_seconds, **options)

    publisher = FlakyPublisher(queue, failures=2)
    relay = OutboxRelay(
        StoreDownOnce(), publisher, owner="test", poll_interval=0.01, backoff=lambda _: 0.0
    )
    task = asyncio.create_task(relay.run_forever())
    try:
        async with asyncio.timeout(5):
            while (await store.outbox_stats()).backlog:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert publisher.published == [event.id]
    assert await queue.depth() == 1


def _saved_and_published_days_ago(path: Path, event_id: str, days: float) -> None:
    moment = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "UPDATE outbox SET created_at = ?, published_at = ? WHERE event_id = ?",
            (moment, moment, event_id),
        )


def _outbox(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT event_id FROM outbox")}


def _purge_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("purged")]


async def _until_purged(path: Path, event_id: str) -> None:
    async with asyncio.timeout(5):
        while event_id in _outbox(path):
            await asyncio.sleep(0.01)


async def test_run_forever_purges_events_published_over_a_week_ago_at_start_and_then_again(
    tmp_path, store, queue, save_submission, caplog
) -> None:
    first, second, recent = [await save_submission() for _ in range(3)]
    await store.mark_published_batch([first.id, second.id, recent.id])
    _saved_and_published_days_ago(tmp_path / "intake.db", first.id, days=8)
    metrics = ApiMetrics()
    relay = OutboxRelay(
        store, queue, owner="test", metrics=metrics, first_purge_after=0, purge_interval=0.05
    )
    caplog.set_level(logging.INFO, logger="intake_api.relay")

    task = asyncio.create_task(relay.run_forever())
    try:
        await _until_purged(tmp_path / "intake.db", first.id)
        _saved_and_published_days_ago(tmp_path / "intake.db", second.id, days=8)
        await _until_purged(tmp_path / "intake.db", second.id)
        # The row goes in the purge's transaction; its count and log line follow on the loop.
        async with asyncio.timeout(5):
            while len(_purge_lines(caplog)) < 2:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert _outbox(tmp_path / "intake.db") == {recent.id}
    exposition = metrics.exposition().decode()
    assert 'intake_store_purged_total{kind="outbox_event"} 2.0' in exposition
    assert 'intake_store_purged_total{kind="idempotency_key"} 0.0' in exposition
    purges = _purge_lines(caplog)
    once = (
        "purged 1 outbox events published over a week ago"
        " and 0 idempotency keys first used over a week ago"
    )
    assert purges == [once, once]


async def test_a_purge_forgets_idempotency_keys_first_used_over_a_week_ago(
    store, queue, caplog
) -> None:
    for key, days_ago in (("old", 8), ("recent", 6)):
        submission = make_submission(submitted_at=datetime.now(UTC) - timedelta(days=days_ago))
        audit = AuditEntry("submission.created", "client", datetime.now(UTC), submission.client_id)
        idempotency = Idempotency(key, "fingerprint")
        await store.save_new(submission, submission_created(submission), audit, idempotency)
    metrics = ApiMetrics()
    relay = OutboxRelay(store, queue, owner="test", metrics=metrics)
    caplog.set_level(logging.INFO, logger="intake_api.relay")

    assert await relay.purge_once() == PurgedItems(outbox_events=0, idempotency_keys=1)
    assert 'intake_store_purged_total{kind="idempotency_key"} 1.0' in metrics.exposition().decode()
    assert caplog.messages == [
        "purged 0 outbox events published over a week ago"
        " and 1 idempotency keys first used over a week ago"
    ]
    assert await relay.purge_once() == PurgedItems()
    assert len(caplog.messages) == 1  # nothing purged, nothing said


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 0.5, 1), (2, 1, 2), (4, 4, 8)])
def test_backoff_grows_exponentially_with_jitter(attempts: int, low: float, high: float) -> None:
    assert backoff_seconds(attempts, random_fraction=lambda: 0.0) == low
    assert backoff_seconds(attempts, random_fraction=lambda: 1.0) == high


def test_backoff_is_capped_and_never_gives_up() -> None:
    for attempts in (7, 50, 10_000):
        delay = backoff_seconds(attempts)
        assert BACKOFF_CAP_SECONDS / 2 <= delay <= BACKOFF_CAP_SECONDS
