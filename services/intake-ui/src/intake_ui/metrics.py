"""Prometheus metrics of the UI: requests by route template (shared), and its breakers."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from intake_core.http_metrics import HttpMetrics


class UiMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__()
        self.breaker_open = Gauge(
            "ui_dependency_breaker_open",
            "1 while the UI's circuit breaker to a dependency is open (calls fail fast)",
            ["dependency"],
            registry=self.registry,
        )

    def watch_breaker(self, dependency: str, is_open: Callable[[], bool]) -> None:
        self.breaker_open.labels(dependency).set_function(lambda: 1.0 if is_open() else 0.0)

    async def exposition(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
