"""The notifier as a plain process: consumes the queue, runs the handler, settles each message.

Runs next to the services under ``make run`` (and on AKS with KEDA), where the Azure Function
host is not available. ``python -m intake_notify.worker``.

Beside its receive loop it purges the ledger of entries over 30 days old, as Cosmos DB's TTL
does (a no-op there): a minute after start, then hourly.

Its metrics are in ``metrics``; ``/healthz`` (which fails while the receive loop is stalled) and
``/metrics`` are served by ``health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import uvicorn

from intake_core.adapters.local_queue import LocalQueue
from intake_core.bootstrap import open_consumer, open_store
from intake_core.breakers import Breaker
from intake_core.guarded_store import store_breaker
from intake_core.ports.ledger import NotifyLedger
from intake_core.ports.mail import Mailer
from intake_core.ports.queue import Delivery, EventConsumer
from intake_core.startup import freeze_startup_objects
from intake_core.telemetry import configure_observability
from intake_notify.handler import Handled, Poison, handle_message
from intake_notify.health import HealthServer, health_app
from intake_notify.mailers import open_sales_team_mailer
from intake_notify.metrics import WorkerMetrics
from intake_notify.settings import NotifySettings

logger = logging.getLogger("intake_notify.worker")

# The longest the receive loop backs off after failed receives (WORKER_STALL_SECONDS exceeds it).
RECEIVE_BACKOFF_MAX_SECONDS = 30.0
LEDGER_PURGE_INTERVAL_SECONDS = 3600.0
# A purge soon after start too, so a worker restarted more often than hourly still purges.
FIRST_LEDGER_PURGE_AFTER_SECONDS = 60.0


class NotifyWorker:
    def __init__(
        self,
        consumer: EventConsumer,
        store: NotifyLedger,
        mailer: Mailer,
        settings: NotifySettings,
        metrics: WorkerMetrics | None = None,
        admits: Callable[[int], int] = lambda wanted: wanted,
        store_breaker: Breaker | None = None,
        first_ledger_purge_after: float = FIRST_LEDGER_PURGE_AFTER_SECONDS,
        ledger_purge_interval: float = LEDGER_PURGE_INTERVAL_SECONDS,
    ) -> None:
        """``admits`` says how many messages may be taken now (the mailer's breaker).
        ``store_breaker`` (by default as ``settings`` say) sees each message's handling as one
        call: one that fails for want of the store counts against it, and while it is open no
        message is taken. Not each store call, as in the APIs: a message's reads can pass
        while its ledger write fails, and each passing read would reset the count."""
        self._first_ledger_purge_after = first_ledger_purge_after
        self._ledger_purge_interval = ledger_purge_interval
        self._consumer = consumer
        self._store = store
        self._mailer = mailer
        self._settings = settings
        self.metrics = metrics or WorkerMetrics()
        self.store_breaker = store_breaker or _store_breaker(settings)
        self._admits = lambda wanted: min(admits(wanted), self.store_breaker.admits(wanted))
        self._stopping = asyncio.Event()
        self._at_once = settings.handled_at_once
        self._slots = asyncio.Semaphore(self._at_once)
        self._tasks: set[asyncio.Task[None]] = set()
        self._came_round = time.monotonic()

    @property
    def idle_seconds(self) -> float:
        """Seconds since the receive loop last came round."""
        return time.monotonic() - self._came_round

    @property
    def stalled(self) -> bool:
        """The receive loop has not come round for ``WORKER_STALL_SECONDS``: it hangs."""
        return self.idle_seconds > self._settings.worker_stall_seconds

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Receive (and purge the ledger) until stopped, then let in-flight messages finish
        (graceful shutdown)."""
        purging = asyncio.create_task(self._purge_ledger_forever(), name="ledger-purge")
        try:
            await self._receive_until_stopped()
        finally:
            purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purging

    async def purge_ledger_once(self) -> int:
        """Delete the ledger entries Cosmos DB's TTL would have deleted by now."""
        purged = await self._store.purge_expired_ledger(datetime.now(UTC))
        if purged:
            logger.info("purged %d ledger entries handled over 30 days ago", purged)
        self.metrics.ledger_purged.inc(purged)
        return purged

    async def _purge_ledger_forever(self) -> None:
        await self._pause(self._first_ledger_purge_after)
        while not self._stopping.is_set():
            try:
                await self.purge_ledger_once()
            except Exception as error:
                # The ledger is busy or down: its entries wait for the next round.
                logger.warning("purging the ledger failed (%s)", type(error).__name__)
            await self._pause(self._ledger_purge_interval)

    async def _receive_until_stopped(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._came_round = time.monotonic()
            await self._slots.acquire()
            self._slots.release()
            # While the mailer's breaker is open, messages stay queued instead of failing.
            batch = self._admits(self._at_once)
            if batch == 0:
                await self._pause(0.5)
                continue
            try:
                deliveries = await self._consumer.receive(max_messages=batch, wait_seconds=0.5)
            except Exception as error:
                # The bus is down: wait and try again; messages are safe where they are.
                failures += 1
                self.metrics.bus_errors.inc()
                logger.warning("receiving failed (%s); backing off", type(error).__name__)
                backoff = min(RECEIVE_BACKOFF_MAX_SECONDS, 0.5 * 2 ** min(failures, 6))
                await self._pause(backoff * random.uniform(0.5, 1))  # noqa: S311 - jitter
                continue
            failures = 0
            for delivery in deliveries:
                await self._slots.acquire()
                task = asyncio.create_task(self._settle(delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if batch < self._at_once and self._tasks:
                # A trial while the mailer recovers: learn how it went before taking more.
                await asyncio.wait(set(self._tasks))
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._settings.shutdown_grace_seconds)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _settle(self, delivery: Delivery) -> None:
        self.metrics.in_flight.inc()
        try:
            with self.store_breaker.guarding():
                outcome = await handle_message(
                    delivery.body, store=self._store, mailer=self._mailer, settings=self._settings
                )
        except Exception as error:
            if delivery.delivery_count >= self._settings.queue_max_deliveries:
                # The last allowed delivery: dead-letter it ourselves, so it is counted.
                logger.error(
                    "giving up after %d deliveries",
                    delivery.delivery_count,
                    extra=identifying(delivery),
                )
                outcome = Poison("MaxDeliveryCountExceeded", f"last error: {type(error).__name__}")
            else:
                logger.warning(
                    "handling failed (%s); it will be redelivered",
                    type(error).__name__,
                    extra=identifying(delivery),
                )
                self.metrics.outcomes.labels("retried").inc()
                await self._settle_safely(self._consumer.abandon(delivery))
                return
        finally:
            self.metrics.in_flight.dec()
            self._slots.release()
        match outcome:
            case Handled(duplicate=True):
                self.metrics.outcomes.labels("duplicate").inc()
                await self._settle_safely(self._consumer.complete(delivery))
            case Handled(erased=True):
                self.metrics.outcomes.labels("erased").inc()
                await self._settle_safely(self._consumer.complete(delivery))
            case Handled(submitted_at=submitted_at):
                self.metrics.outcomes.labels("sent").inc()
                if submitted_at is not None:
                    age = (datetime.now(UTC) - submitted_at).total_seconds()
                    self.metrics.submit_to_email.observe(max(0.0, age))
                await self._settle_safely(self._consumer.complete(delivery))
            case Poison(reason=reason, description=description):
                logger.error("dead-lettering message: %s", reason, extra=identifying(delivery))
                self.metrics.outcomes.labels("dead_lettered").inc()
                await self._settle_safely(self._consumer.dead_letter(delivery, reason, description))

    async def _settle_safely(self, settlement: Awaitable[None]) -> None:
        """A settle that fails (bus down) is not fatal: the lock expires, the message returns,
        and the ledger makes its second handling a no-op."""
        try:
            await settlement
        except Exception as error:
            self.metrics.bus_errors.inc()
            logger.warning("settling a message failed (%s)", type(error).__name__)


def _store_breaker(settings: NotifySettings) -> Breaker:
    """A store that keeps failing stops the worker taking messages, as a failing mailer does:
    otherwise each message would use up its deliveries on the outage and be dead-lettered."""
    return store_breaker(settings.store_breaker_failures, settings.store_breaker_reset_seconds)


def identifying(delivery: Delivery) -> dict[str, str]:
    """What ties a log line about a delivery to its event (the message id is the event id) and
    to its trace: the handler's span has closed by the time the delivery is settled."""
    found = {"message_id": delivery.message_id}
    version, trace_id, *_ = [*delivery.properties.get("traceparent", "").split("-"), "", ""]
    if version == "00" and len(trace_id) == 32:
        found["trace_id"] = trace_id
    return found


async def serve(settings: NotifySettings) -> None:
    store = await open_store(settings)
    queue = await open_consumer(settings)
    mailer = open_sales_team_mailer(settings)
    worker = NotifyWorker(queue, store, mailer, settings, admits=mailer.admits)
    worker.metrics.mailer_breaker_open.set_function(lambda: 0.0 if mailer.accepting else 1.0)
    worker.metrics.store_breaker_open.set_function(
        lambda: 1.0 if worker.store_breaker.is_open else 0.0
    )
    # Service Bus's receiver cannot count a queue: Azure Monitor has its message counts.
    count_queue = (
        functools.partial(worker.metrics.observe_queue, queue)
        if isinstance(queue, LocalQueue)
        else None
    )
    server = HealthServer(
        uvicorn.Config(
            health_app(worker.metrics, count_queue, worker),
            host=settings.notify_metrics_host,
            port=settings.notify_metrics_port,
            log_level="warning",
        )
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    http = asyncio.create_task(server.serve())
    logger.info("notify worker started with the %s mailer", settings.mailer)
    try:
        await worker.run()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await http
        await mailer.close()
        await queue.close()
        await store.close()
        logger.info("notify worker stopped")


def main() -> None:
    settings = NotifySettings()
    configure_observability("notify-worker", settings)
    freeze_startup_objects()
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
