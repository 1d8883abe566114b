"""Liveness, readiness and metrics, for Kubernetes probes and Prometheus."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from intake_api.dependencies import RuntimeDep
from intake_core.web import RETRY_AFTER_SECONDS, Health, Problem, Readiness, problem_response

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


async def failing_dependencies(
    checks: Mapping[str, Callable[[], Awaitable[None]]], within_seconds: float
) -> list[str]:
    """Names of the dependencies that raised or did not answer within ``within_seconds``."""

    async def fails(name: str, check: Callable[[], Awaitable[None]]) -> bool:
        try:
            async with asyncio.timeout(within_seconds):
                await check()
        except Exception as error:
            logger.warning("readiness: %s failed (%s)", name, type(error).__name__)
            return True
        return False

    results = await asyncio.gather(*(fails(name, check) for name, check in checks.items()))
    return [name for name, failed in zip(checks, results, strict=True) if failed]


@router.get("/healthz", summary="The process is alive (touches no dependency)")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="Ready while the store answers and its circuit breaker is closed; the bus is reported",
    description=(
        "503 when the store does not answer or its circuit breaker is open: submissions would"
        " fail, so traffic belongs on another replica. A bus that does not answer does not make"
        " the service unready (a submission and its event are saved together, and the outbox"
        " publishes the event once the bus is back): it answers 200 with `status: degraded`."
    ),
    response_model=Readiness,
    responses={503: {"model": Problem, "description": "The store failed; see `failed`"}},
)
async def readyz(runtime: RuntimeDep) -> Readiness | Response:
    # The store itself, not the routes' guarded one: a ping must not count towards its breaker.
    adapters = runtime.opened()
    checks = {"store": adapters.store.ping, "publisher": adapters.publisher.ping}
    failed = await failing_dependencies(checks, runtime.settings.readiness_timeout_seconds)
    if runtime.store_breaker.is_open:
        # Requests would be refused at once: send them to a replica that can take them.
        failed.append("store-breaker")
    if set(failed) - {"publisher"}:
        wait = runtime.store_breaker.retry_after(RETRY_AFTER_SECONDS)
        return problem_response(
            503,
            "Some dependencies are not reachable.",
            headers={"retry-after": str(wait)},
            failed=failed,
        )
    return Readiness(
        status="degraded" if failed else "ready",
        checks={name: "failing" if name in failed else "ok" for name in checks},
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition"}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    try:
        async with asyncio.timeout(runtime.settings.readiness_timeout_seconds):
            outbox = await runtime.opened().store.outbox_stats()
    except Exception as error:
        # Keep the last known values: a scrape must not fail because the store is slow.
        logger.warning("metrics: outbox stats unavailable (%s)", type(error).__name__)
    else:
        runtime.metrics.outbox_backlog.set(outbox.backlog)
        runtime.metrics.outbox_oldest_age.set(outbox.oldest_age_seconds(datetime.now(UTC)))
    return Response(runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
