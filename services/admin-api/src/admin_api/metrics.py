"""Prometheus metrics in a registry of this app's own, so several apps in one process (tests)
never share counters. (Each request's id comes from ``intake_core.web.RequestContext``.)

The HTTP metrics have the names every service exposes (``http_requests_total``,
``http_request_duration_seconds``): dashboards and alerts tell the services apart by their
``service`` label, which Prometheus adds from the Kubernetes Service it scraped."""

from __future__ import annotations

from prometheus_client import Gauge

from intake_core.http_metrics import HttpMetrics


class AdminMetrics(HttpMetrics):
    def __init__(self) -> None:
        super().__init__()
        self.store_breaker_open = Gauge(
            "admin_api_store_breaker_open",
            "1 while the store's circuit breaker answers 503 without calling the store",
            registry=self.registry,
        )
