"""The notifier as a plain process: consumes the queue, runs the handler, settles each message.

Runs next to the services under ``make run`` (and on AKS with KEDA), where the Azure Function
host is not available. ``python -m intake_notify.worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake_core.bootstrap import open_consumer, open_store
from intake_core.ports import Delivery, EventConsumer, Mailer, SubmissionStore
from intake_core.telemetry import configure_observability
from intake_notify.handler import Handled, Poison, handle_message
from intake_notify.mailers import close_mailer, open_mailer
from intake_notify.settings import NotifySettings

log = logging.getLogger("intake_notify.worker")


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.outcomes = Counter(
            "notify_messages_total",
            "Messages settled by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "notify_messages_in_flight", "Messages being handled", registry=self.registry
        )


class NotifyWorker:
    def __init__(
        self,
        consumer: EventConsumer,
        store: SubmissionStore,
        mailer: Mailer,
        settings: NotifySettings,
        metrics: WorkerMetrics | None = None,
        admits: Callable[[int], int] = lambda wanted: wanted,
    ) -> None:
        self._consumer = consumer
        self._store = store
        self._mailer = mailer
        self._settings = settings
        self.metrics = metrics or WorkerMetrics()
        self._admits = admits
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Receive until stopped, then let in-flight messages finish (graceful shutdown)."""
        while not self._stopping.is_set():
            await self._slots.acquire()
            self._slots.release()
            # While the mailer's breaker is open, messages stay queued instead of failing.
            batch = self._admits(self._settings.worker_concurrency)
            if batch == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=0.5)
                continue
            deliveries = await self._consumer.receive(max_messages=batch, wait_seconds=0.5)
            for delivery in deliveries:
                await self._slots.acquire()
                task = asyncio.create_task(self._settle(delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._settings.shutdown_grace_seconds)

    async def _settle(self, delivery: Delivery) -> None:
        self.metrics.in_flight.inc()
        try:
            outcome = await handle_message(
                delivery.body, store=self._store, mailer=self._mailer, settings=self._settings
            )
        except Exception:
            log.exception("handling failed; the message will be redelivered")
            self.metrics.outcomes.labels("retried").inc()
            await self._consumer.abandon(delivery)
        else:
            match outcome:
                case Handled(duplicate=True):
                    self.metrics.outcomes.labels("duplicate").inc()
                    await self._consumer.complete(delivery)
                case Handled(erased=True):
                    self.metrics.outcomes.labels("erased").inc()
                    await self._consumer.complete(delivery)
                case Handled():
                    self.metrics.outcomes.labels("sent").inc()
                    await self._consumer.complete(delivery)
                case Poison(reason=reason, description=description):
                    log.error("dead-lettering message: %s", reason)
                    self.metrics.outcomes.labels("dead_lettered").inc()
                    await self._consumer.dead_letter(delivery, reason, description)
        finally:
            self.metrics.in_flight.dec()
            self._slots.release()


def health_app(metrics: WorkerMetrics) -> Starlette:
    async def healthz(_: object) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def exposition(_: object) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", exposition)])


class _HealthServer(uvicorn.Server):
    """The health endpoint's server; the worker, not uvicorn, owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: NotifySettings) -> None:
    store = await open_store(settings)
    queue = await open_consumer(settings)
    mailer = open_mailer(settings)
    worker = NotifyWorker(queue, store, mailer, settings, admits=mailer.admits)
    server = _HealthServer(
        uvicorn.Config(
            health_app(worker.metrics),
            host=settings.notify_metrics_host,
            port=settings.notify_metrics_port,
            log_level="warning",
        )
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    http = asyncio.create_task(server.serve())
    log.info("notify worker started with the %s mailer", settings.mailer)
    try:
        await worker.run()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await http
        await close_mailer(mailer)
        await queue.close()
        await store.close()
        log.info("notify worker stopped")


def main() -> None:
    settings = NotifySettings()
    configure_observability("notify-worker", settings)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
