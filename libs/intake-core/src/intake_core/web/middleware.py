"""The ASGI middleware the services share: security headers, the last resort 500, the body limit
and the request id."""

from __future__ import annotations

import functools
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Iterable
from email.message import Message as MimeHeader

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake_core import logs
from intake_core.domain.entropy import random_uuid

logger = logging.getLogger(__name__)

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

API_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cross-origin-resource-policy": "same-origin",
}


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or any ``application/*+json``, parameters allowed (as FastAPI reads)."""
    return bool(content_type) and _is_json_media_type(content_type)


@functools.lru_cache(maxsize=64)  # clients send the same few; parsing one is a MIME header's work
def _is_json_media_type(content_type: str) -> bool:
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class SecurityHeaders:
    """Adds fixed security headers to every response, without overriding ones already set."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self._app = app
        self._headers = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self._headers if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self._app(scope, receive, send_with_headers)


class LastResort:
    """Answers ``answer()`` (a 500 problem) for any exception nothing else handled.

    Add it inside the security headers: Starlette answers an unhandled exception from its
    outermost layer, around every middleware, so its 500 would go without them. It logs where
    the exception happened without its message, which may quote request data.
    """

    def __init__(self, app: ASGIApp, answer: Callable[[], Response]) -> None:
        self._app = app
        self._answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception as error:
            logger.error(
                "unhandled %s on %s %s\n%s",
                type(error).__name__,
                scope["method"],
                getattr(scope.get("route"), "path", "an unmatched route"),
                "".join(traceback.format_tb(error.__traceback__)),
            )
            if not started:
                await self._answer()(scope, receive, send)


BodyRefusal = Callable[[Request, int], Awaitable[Response]]


class BodyLimit:
    """Refuses a request body over ``max_bytes`` before the app reads a byte of it.

    A declared ``Content-Length`` over the limit is refused unread. Any other body is read here,
    its bytes counted as they arrive, and handed to the app whole once it has ended within the
    limit: a chunked body declares no length, and a server need not hold a body to the length it
    declares (uvicorn's h11 reads a chunked body that also declares a small one), so only the
    count is trusted. The limits are small (1 MB at most), so reading first costs little, and
    the app then never sees a refused body, nor an exception from ``receive``.

    ``on_refuse(request, status)`` answers in the service's own shape: ``413`` for a body over
    the limit, ``400`` for a ``Content-Length`` that is not a number. A client that leaves
    before its body ends gets no answer, as nobody is left to read one (``RequestMetrics``
    counts the request as 499, not as a server error).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, on_refuse: BodyRefusal) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._on_refuse = on_refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        refusal = self._declared_length_refusal(scope["headers"])
        if refusal is not None:
            await self._refuse(refusal, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # http.disconnect: the client left before its body ended
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_bytes:
                await self._refuse(413, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self._app(scope, replaying(b"".join(chunks), receive), send)

    def _declared_length_refusal(self, headers: Iterable[tuple[bytes, bytes]]) -> int | None:
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit():
                    return 400
                digits = value.lstrip(b"0")  # int() refuses more than 4300 digits
                if len(digits) > len(str(self._max_bytes)) or int(digits or b"0") > self._max_bytes:
                    return 413
        return None

    async def _refuse(self, status: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._on_refuse(Request(scope, receive), status)
        await response(scope, receive, send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the whole body once, then whatever the client sends next (the
    app only waits there to learn of a disconnect, e.g. to stop a streaming answer)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestContext:
    """Gives each request an id: the caller's ``X-Request-ID`` when it is sane, else a new one.
    It is in the scope's state (``request_id``, for an audit trail), in every log line of the
    request and in the response, so support finds a failed request's logs from what a caller
    reports."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        logged_as = logs.request_id.set(request_id)
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(logged_as)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
    # From the buffered CSPRNG: uuid4() makes a system call that lets go of the interpreter's
    # lock, on every request of intake-api's hot path (see intake_core.domain.entropy).
    return random_uuid().hex
