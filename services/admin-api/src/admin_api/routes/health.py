"""Liveness, readiness and metrics: no authentication, no personal data."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from admin_api.deps import MetricsDep, StoreDep
from admin_api.openapi import READINESS_PROBLEMS
from intake_core.web import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", responses=READINESS_PROBLEMS)
async def readyz(store: StoreDep) -> Readiness:
    """503 (via the StoreUnavailable handler) when the store cannot serve requests."""
    await store.ping()
    return Readiness(checks={"store": "ok"})


@router.get("/metrics", include_in_schema=False)
async def metrics(http_metrics: MetricsDep) -> Response:
    return Response(generate_latest(http_metrics.registry), media_type=CONTENT_TYPE_LATEST)
