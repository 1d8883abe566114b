"""Per-request context and Prometheus metrics.

Each request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new one) that the
audit trail records and the response echoes. Metrics live in a registry of this app's own, so
several apps in one process (tests) never share counters.
"""

from __future__ import annotations

import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "admin_api_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "admin_api_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def _route_label(scope: Scope) -> str:
    # The route's template, never the raw path: hostile paths must not create new series.
    route = scope.get("route")
    return route.path if isinstance(route, Route) else "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
            route = _route_label(scope)
            self._metrics.requests.labels(method, route, str(status)).inc()
            self._metrics.duration.labels(method, route).observe(time.perf_counter() - started)
