"""Prometheus metrics, in a registry per app so several apps can live in one process (tests)."""

from __future__ import annotations

import time
from collections.abc import Collection

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            registry=self.registry,
        )
        self.submissions = Counter(
            "intake_submissions",
            "Submission requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "intake_outbox_backlog",
            "Events written to the outbox and not yet published (at the last scrape)",
            registry=self.registry,
        )
        self.relay_published = Counter(
            "intake_relay_published",
            "Outbox events published",
            ["path"],
            registry=self.registry,
        )
        self.relay_publish_duration = Histogram(
            "intake_relay_publish_duration_seconds",
            "Time to publish one outbox event to the bus",
            ["path"],
            registry=self.registry,
        )
        self.relay_failures = Counter(
            "intake_relay_publish_failures",
            "Attempts to publish an outbox event that failed (it is retried later)",
            ["path"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """Counts and times every request, labelled by the route template (bounded cardinality).

    Middleware that answers before routing (the JSON guard) leaves no route in the scope, so a
    request is also matched against ``templates``: this app's routes have no path parameters.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, templates: Collection[str]) -> None:
        self._app = app
        self._metrics = metrics
        self._templates = frozenset(templates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, recording_send)
        finally:
            template = getattr(scope.get("route"), "path", None) or scope["path"]
            if template not in self._templates:
                template = UNMATCHED_ROUTE
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self._metrics.requests.labels(method, template, str(status)).inc()
            self._metrics.duration.labels(method, template).observe(time.perf_counter() - started)
