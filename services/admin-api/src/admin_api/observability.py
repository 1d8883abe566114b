"""Per-request context and Prometheus metrics.

Each request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new one) that the
audit trail records, its log lines carry and the response echoes. Metrics live in a registry of
this app's own, so several apps in one process (tests) never share counters.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake_core import logs
from intake_core.http_metrics import HttpMetrics

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def admin_metrics() -> HttpMetrics:
    return HttpMetrics(
        requests_name="admin_api_requests", duration_name="admin_api_request_duration_seconds"
    )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


class RequestContext:
    """Gives each request an id: in the scope's state for the audit trail, in its log lines and
    in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        logged_as = logs.request_id.set(request_id)  # every log line of this request names it

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(logged_as)
