"""Request metrics every web process exposes: count and duration by route template.

Each app keeps its own ``CollectorRegistry``, so several apps in one process (tests) never share
counters. Routes are labelled by their template, never the raw path, so hostile paths cannot
create new series.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "unmatched"
CLIENT_CLOSED_REQUEST = 499
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        requests_name: str = "http_requests",
        duration_name: str = "http_request_duration_seconds",
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            requests_name,
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            duration_name,
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            registry=self.registry,
        )


class RequestMetrics:
    """ASGI middleware counting and timing every request.

    Middleware that answers before routing leaves no route in the scope; ``templates`` (paths
    without parameters) lets such requests still be labelled by their path when it is a route.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, templates: Collection[str] = ()) -> None:
        self._app = app
        self._metrics = metrics
        self._templates = frozenset(templates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        # Nothing answered and nothing raised: the client left first (BodyLimit returns so when
        # it leaves mid-body). No server error, then: 499, as nginx counts it. (Were the client
        # still there, uvicorn would answer that app with its own 500 and an error log.)
        status: int | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, recording_send)
        except BaseException:
            status = status or 500
            raise
        finally:
            status = status or CLIENT_CLOSED_REQUEST
            route = self._route(scope)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self._metrics.requests.labels(method, route, str(status)).inc()
            self._metrics.duration.labels(method, route).observe(time.perf_counter() - started)

    def _route(self, scope: Scope) -> str:
        template = getattr(scope.get("route"), "path", None)
        if isinstance(template, str):
            return template
        return scope["path"] if scope["path"] in self._templates else UNMATCHED_ROUTE
