"""The worker's HTTP side: ``/healthz`` (the liveness probe) and ``/metrics``.

``/healthz`` fails once the receive loop has not come round for ``WORKER_STALL_SECONDS``: a
receive or a handler that hangs would otherwise keep a worker that answers its probes and sends
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake_notify.metrics import WorkerMetrics

if TYPE_CHECKING:
    from intake_notify.worker import NotifyWorker

# The worker's logger: these lines are the worker's (the runbooks quote the stall one).
logger = logging.getLogger("intake_notify.worker")

# A scrape waits this long for the queue's counts, then shows the last ones it had.
SCRAPE_READ_TIMEOUT_SECONDS = 2.0


def health_app(
    metrics: WorkerMetrics,
    before_scrape: Callable[[], Awaitable[None]] | None = None,
    worker: NotifyWorker | None = None,
) -> Starlette:
    """``/healthz`` and ``/metrics``; ``before_scrape`` reads what is measured at scrape time.
    With ``worker``, ``/healthz`` answers 503 while its receive loop is stalled."""

    async def healthz(_: object) -> JSONResponse:
        if worker is not None and worker.stalled:
            idle = round(worker.idle_seconds)
            logger.error("receive loop stalled for %d s; failing /healthz so it is restarted", idle)
            return JSONResponse({"status": "stalled", "idle_seconds": idle}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def exposition(_: object) -> Response:
        if before_scrape is not None:
            await _measure(before_scrape)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", exposition)])


async def _measure(before_scrape: Callable[[], Awaitable[None]]) -> None:
    """A slow or failing read keeps the last values: the scrape itself must not fail."""
    try:
        async with asyncio.timeout(SCRAPE_READ_TIMEOUT_SECONDS):
            await before_scrape()
    except Exception as error:
        logger.warning("metrics: queue counts unavailable (%s)", type(error).__name__)


class HealthServer(uvicorn.Server):
    """The health endpoint's server; the worker, not uvicorn, owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
