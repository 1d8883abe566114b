"""The local notify worker on the real durable queue, the real ledger and the real .eml mailer."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from intake_core.adapters.file_mailer import FileMailer
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_schema import ledger_path
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_notify.settings import NotifySettings
from intake_notify.worker import NotifyWorker
from support import stored_event


async def wait_until(condition, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_worker_emails_each_submission_once_and_dead_letters_poison(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore, local_queue: LocalQueue
) -> None:
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_concurrency=4)
    worker = NotifyWorker(local_queue, sqlite_store, FileMailer(settings.mail_dir), settings)
    events = [await stored_event(sqlite_store) for _ in range(12)]
    for event in events:
        await local_queue.publish(event)
    # A duplicate publish that slipped past duplicate detection (another message id).
    await local_queue.send("another-id", events[0].to_json(), {})
    await local_queue.send("poison-1", "{not json", {})

    running = asyncio.create_task(worker.run())

    async def drained() -> bool:
        return await local_queue.depth() == 0

    await wait_until(drained)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)

    assert len(list(settings.mail_dir.glob("*.eml"))) == len(events)
    [dead] = await local_queue.dead_letters()
    assert (dead.message_id, dead.reason) == ("poison-1", "MalformedEvent")
    samples = {
        (s.labels.get("outcome"), s.value)
        for metric in worker.metrics.registry.collect()
        for s in metric.samples
        if s.name == "notify_messages_total"
    }
    assert ("sent", 12.0) in samples and ("duplicate", 1.0) in samples
    freshness = [
        s.value
        for metric in worker.metrics.registry.collect()
        for s in metric.samples
        if s.name == "notify_submission_to_email_seconds_count"
    ]
    assert freshness == [12.0]


class GatedMailer(FileMailer):
    """A real file mailer whose sends wait at a gate, to show how many are in flight at once."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.gate = asyncio.Event()
        self.waiting = 0
        self.most_waiting = 0

    async def send(self, email) -> None:  # type: ignore[no-untyped-def]
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        await self.gate.wait()
        self.waiting -= 1
        await super().send(email)


async def test_with_the_file_mailer_the_worker_handles_32_messages_at_once(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore, local_queue: LocalQueue
) -> None:
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path)
    mailer = GatedMailer(settings.mail_dir)
    worker = NotifyWorker(local_queue, sqlite_store, mailer, settings)
    for _ in range(40):
        await local_queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())

    async def all_slots_taken() -> bool:
        return mailer.waiting == 32

    await wait_until(all_slots_taken)
    await asyncio.sleep(0.3)  # time to take more, were it going to
    assert mailer.most_waiting == 32
    mailer.gate.set()

    async def drained() -> bool:
        return await local_queue.depth() == 0

    await wait_until(drained)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert len(list(settings.mail_dir.glob("*.eml"))) == 40


class FlakyMailer(FileMailer):
    """A real file mailer that fails its first sends, as a mail server outage would."""

    def __init__(self, folder: Path, failures: int) -> None:
        super().__init__(folder)
        self.failures = failures

    async def send(self, email) -> None:  # type: ignore[no-untyped-def]
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("mail server unavailable")
        await super().send(email)


async def test_a_failing_mailer_means_redelivery_not_loss(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore, local_queue: LocalQueue
) -> None:
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_concurrency=1)
    worker = NotifyWorker(local_queue, sqlite_store, FlakyMailer(settings.mail_dir, 2), settings)
    await local_queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())

    async def sent() -> bool:
        return len(list(settings.mail_dir.glob("*.eml"))) == 1 and await local_queue.depth() == 0

    await wait_until(sent)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)


async def test_health_and_metrics_endpoints(tmp_path: Path) -> None:
    import httpx

    from intake_notify.health import health_app
    from intake_notify.metrics import WorkerMetrics

    metrics = WorkerMetrics()
    metrics.outcomes.labels("sent").inc()
    transport = httpx.ASGITransport(app=health_app(metrics))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        exposition = await client.get("/metrics")
    assert exposition.status_code == 200
    assert 'notify_messages_total{outcome="sent"} 1.0' in exposition.text
    # Without a local queue to count (Service Bus), no depth is made up.
    assert "notify_queue_messages{" not in exposition.text


async def test_metrics_count_the_local_queue_by_state_at_each_scrape(
    local_queue: LocalQueue,
) -> None:
    import functools

    import httpx

    from intake_notify.health import health_app
    from intake_notify.metrics import WorkerMetrics

    for n in range(4):
        await local_queue.send(f"message-{n}", "{}", {})
    [locked, poison] = await local_queue.receive(2, 0)
    await local_queue.dead_letter(poison, "Poison", "for the test")
    metrics = WorkerMetrics()
    app = health_app(metrics, functools.partial(metrics.observe_queue, local_queue))

    def depth(exposition: str) -> dict[str, float]:
        return {
            sample.labels["state"]: sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples
            if sample.name == "notify_queue_messages"
        }

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        before = depth((await client.get("/metrics")).text)
        await local_queue.complete(locked)
        await local_queue.replay_dead_letters()
        after = depth((await client.get("/metrics")).text)
    assert before == {"ready": 2, "locked": 1, "dead_lettered": 1}
    assert after == {"ready": 3, "locked": 0, "dead_lettered": 0}


async def test_an_open_breaker_leaves_messages_queued_until_the_mailer_recovers(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore, local_queue: LocalQueue
) -> None:
    from intake_notify.mailers import SalesTeamMailer

    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_concurrency=1)
    flaky = FlakyMailer(settings.mail_dir, failures=10_000)
    mailer = SalesTeamMailer(flaky, attempts=1, breaker_failures=2, breaker_reset_seconds=0.5)
    worker = NotifyWorker(local_queue, sqlite_store, mailer, settings, admits=mailer.admits)
    await local_queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())

    async def breaker_open() -> bool:
        return not mailer.accepting

    await wait_until(breaker_open)
    await asyncio.sleep(0.3)  # while open, the worker must not take the message again
    assert await local_queue.dead_letters() == []
    attempts_while_down = 10_000 - flaky.failures
    assert attempts_while_down <= 3  # fixture queue dead-letters at 3 deliveries

    flaky.failures = 0  # the mail server is back

    async def sent() -> bool:
        return len(list(settings.mail_dir.glob("*.eml"))) == 1

    await wait_until(sent)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert await local_queue.dead_letters() == []


class BusDownAtFirst(LocalQueue):
    """The real queue, whose first receives fail as during a bus outage."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path)
        self.failures = failures

    async def receive(self, max_messages: int, wait_seconds: float):  # type: ignore[no-untyped-def]
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("bus unavailable")
        return await super().receive(max_messages, wait_seconds)


async def test_the_worker_survives_a_bus_outage(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore
) -> None:
    queue = BusDownAtFirst(tmp_path / "flaky-queue.db", failures=3)
    await queue.open()
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_concurrency=2)
    worker = NotifyWorker(queue, sqlite_store, FileMailer(settings.mail_dir), settings)
    await queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())

    async def sent() -> bool:
        return len(list(settings.mail_dir.glob("*.eml"))) == 1

    await wait_until(sent, within=20)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert queue.failures == 0
    [errors] = [m for m in worker.metrics.registry.collect() if m.name == "notify_bus_errors"]
    assert errors.samples[0].value == 3
    await queue.close()


async def test_the_last_allowed_delivery_is_dead_lettered_and_counted(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore
) -> None:
    queue = LocalQueue(tmp_path / "q.db", max_delivery_count=3)
    await queue.open()
    settings = NotifySettings(
        INTAKE_DATA_DIR=tmp_path, worker_concurrency=1, queue_max_deliveries=3
    )
    worker = NotifyWorker(queue, sqlite_store, FlakyMailer(settings.mail_dir, 100), settings)
    await queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())

    async def dead() -> bool:
        return len(await queue.dead_letters()) == 1

    await wait_until(dead, within=20)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    [letter] = await queue.dead_letters()
    assert letter.reason == "MaxDeliveryCountExceeded"
    samples = {
        s.labels["outcome"]: s.value
        for m in worker.metrics.registry.collect()
        for s in m.samples
        if s.name == "notify_messages_total"
    }
    assert samples["dead_lettered"] == 1 and samples["retried"] == 2 and samples["sent"] == 0
    await queue.close()


async def test_a_failing_store_leaves_messages_queued_until_it_recovers(
    tmp_path: Path, local_queue: LocalQueue
) -> None:
    from intake_core.guarded_store import store_breaker

    store = SqliteSubmissionStore(tmp_path / "locked.db", busy_timeout_seconds=0.05)
    await store.open()
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_concurrency=1)
    breaker = store_breaker(failures=2, reset_seconds=0.5)
    worker = NotifyWorker(
        local_queue, store, FileMailer(settings.mail_dir), settings, store_breaker=breaker
    )
    for _ in range(3):
        await local_queue.publish(await stored_event(store))
    # Another process holds the write locks of the store's files (the ledger's included).
    blockers = [
        sqlite3.connect(path, isolation_level=None)
        for path in (tmp_path / "locked.db", ledger_path(tmp_path / "locked.db"))
    ]
    for blocker in blockers:
        blocker.execute("BEGIN EXCLUSIVE")
    running = asyncio.create_task(worker.run())

    async def breaker_open() -> bool:
        return breaker.is_open

    await wait_until(breaker_open)
    await asyncio.sleep(0.3)  # while open, the worker must not take messages
    assert await local_queue.dead_letters() == []  # the fixture queue dead-letters at 3
    assert (await local_queue.message_counts()).ready >= 1, "some wait their turn, untouched"

    for blocker in blockers:
        blocker.execute("ROLLBACK")
        blocker.close()

    async def all_sent() -> bool:
        return len(list(settings.mail_dir.glob("*.eml"))) == 3

    await wait_until(all_sent)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert await local_queue.dead_letters() == []
    await store.close()


def _handled_days_ago(store_path: Path, event_id: str, days: float) -> None:
    """Backdate a ledger entry in the ledger's own file."""
    handled_at = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="microseconds")
    with closing(sqlite3.connect(ledger_path(store_path))) as connection, connection:
        connection.execute(
            "UPDATE handled_events SET handled_at = ? WHERE event_id = ?", (handled_at, event_id)
        )


def _purging_worker(
    tmp_path: Path, queue: LocalQueue, store: SqliteSubmissionStore, *, first_after: float
) -> NotifyWorker:
    """A worker whose ledger purge comes round every 50 ms."""
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path)
    return NotifyWorker(
        queue,
        store,
        FileMailer(settings.mail_dir),
        settings,
        first_ledger_purge_after=first_after,
        ledger_purge_interval=0.05,
    )


def _ledger_purged(worker: NotifyWorker) -> float:
    [total] = [
        s.value
        for m in worker.metrics.registry.collect()
        for s in m.samples
        if s.name == "notify_ledger_purged_total"
    ]
    return total


async def test_beside_its_receive_loop_the_worker_purges_the_ledger_and_counts(
    tmp_path: Path,
    sqlite_store: SqliteSubmissionStore,
    local_queue: LocalQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="intake_notify.worker")
    worker = _purging_worker(tmp_path, local_queue, sqlite_store, first_after=0.05)
    for event_id, days in (("old", 31), ("recent", 29)):
        await sqlite_store.record_handled(event_id, "mailer")
        _handled_days_ago(tmp_path / "intake.db", event_id, days)
    running = asyncio.create_task(worker.run())

    async def purged() -> bool:
        return not await sqlite_store.was_handled("old", "mailer")

    await wait_until(purged)
    await sqlite_store.record_handled("older", "mailer")  # the next round takes this one
    _handled_days_ago(tmp_path / "intake.db", "older", 45)

    async def purged_again() -> bool:
        return not await sqlite_store.was_handled("older", "mailer")

    await wait_until(purged_again)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert await sqlite_store.was_handled("recent", "mailer")
    assert _ledger_purged(worker) == 2
    purges = [r.message for r in caplog.records if r.message.startswith("purged")]
    assert purges == ["purged 1 ledger entries handled over 30 days ago"] * 2  # not when none


async def test_a_ledger_purge_that_fails_is_tried_again_the_next_round(
    tmp_path: Path, local_queue: LocalQueue, caplog: pytest.LogCaptureFixture
) -> None:
    store_path = tmp_path / "locked.db"
    store = SqliteSubmissionStore(store_path, busy_timeout_seconds=0.05)
    await store.open()
    await store.record_handled("old", "mailer")
    _handled_days_ago(store_path, "old", 31)
    worker = _purging_worker(tmp_path, local_queue, store, first_after=0)
    # Another process holds the ledger's write lock.
    blocker = sqlite3.connect(ledger_path(store_path), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    running = asyncio.create_task(worker.run())

    async def warned() -> bool:
        return any(
            r.levelname == "WARNING" and "purging the ledger failed" in r.message
            for r in caplog.records
        )

    await wait_until(warned)
    assert _ledger_purged(worker) == 0
    blocker.execute("ROLLBACK")
    blocker.close()

    async def purged() -> bool:
        return _ledger_purged(worker) == 1

    await wait_until(purged)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert not await store.was_handled("old", "mailer")
    await store.close()


class ReceiveHangsWhenTold(LocalQueue):
    """The real queue, whose receive can be made to hang as a dead connection's would."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def receive(self, max_messages: int, wait_seconds: float):  # type: ignore[no-untyped-def]
        await self.flowing.wait()
        return await super().receive(max_messages, wait_seconds)


async def healthz_status(client, expected: int) -> None:  # type: ignore[no-untyped-def]
    async def answers() -> bool:
        return (await client.get("/healthz")).status_code == expected

    await wait_until(answers, within=5)


async def test_healthz_fails_while_the_receive_loop_hangs_so_the_worker_is_restarted(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore
) -> None:
    import httpx

    from intake_notify.health import health_app

    queue = ReceiveHangsWhenTold(tmp_path / "hanging-queue.db")
    await queue.open()
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_stall_seconds=1.0)
    worker = NotifyWorker(queue, sqlite_store, FileMailer(settings.mail_dir), settings)
    await queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())
    transport = httpx.ASGITransport(app=health_app(worker.metrics, worker=worker))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:

        async def sent() -> bool:
            return len(list(settings.mail_dir.glob("*.eml"))) == 1

        await wait_until(sent)
        await asyncio.sleep(1.5)  # longer than the bound: an empty queue is not a stall
        assert (await client.get("/healthz")).json() == {"status": "ok"}

        queue.flowing.clear()  # the next receive hangs
        await healthz_status(client, 503)
        stalled = (await client.get("/healthz")).json()
        assert stalled["status"] == "stalled" and stalled["idle_seconds"] >= 1

        queue.flowing.set()  # it returns after all: the loop comes round again
        await healthz_status(client, 200)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    await queue.close()


async def test_healthz_fails_while_every_handler_hangs(
    tmp_path: Path, sqlite_store: SqliteSubmissionStore, local_queue: LocalQueue
) -> None:
    """A handler that never returns holds its slot: with every slot held, nothing is received."""
    import httpx

    from intake_notify.health import health_app

    settings = NotifySettings(
        INTAKE_DATA_DIR=tmp_path, worker_concurrency=1, worker_stall_seconds=1.0
    )
    mailer = GatedMailer(settings.mail_dir)  # every send waits at the gate
    worker = NotifyWorker(local_queue, sqlite_store, mailer, settings)
    await local_queue.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())
    transport = httpx.ASGITransport(app=health_app(worker.metrics, worker=worker))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        await healthz_status(client, 503)
        mailer.gate.set()
        await healthz_status(client, 200)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    assert len(list(settings.mail_dir.glob("*.eml"))) == 1


async def test_a_dead_letters_log_line_names_its_message_and_trace(
    tmp_path: Path, local_queue: LocalQueue, caplog: pytest.LogCaptureFixture
) -> None:
    """Settling happens after the handler's span has closed, so the line carries the message id
    (the event id) and the trace id from the message's traceparent itself: on-call can go from
    a dead letter in the logs to its event and its trace."""
    caplog.set_level("INFO", logger="intake_notify.worker")
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await local_queue.send(
        "poison-7", "{not json", {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path)
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    worker = NotifyWorker(local_queue, store, FileMailer(settings.mail_dir), settings)
    running = asyncio.create_task(worker.run())

    async def dead_lettered() -> bool:
        return len(await local_queue.dead_letters()) == 1

    await wait_until(dead_lettered)
    worker.stop()
    await asyncio.wait_for(running, timeout=5)
    await store.close()

    [line] = [r for r in caplog.records if r.getMessage().startswith("dead-lettering message")]
    assert (line.message_id, line.trace_id) == ("poison-7", trace_id)  # type: ignore[attr-defined]
