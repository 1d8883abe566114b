"""Guard JSON endpoints before FastAPI parses a byte: content type, size, syntax, shape.

FastAPI would read any body whole and accept ``NaN``; this middleware checks the declared
``Content-Length``, counts the bytes actually streamed and stops at the limit, parses strictly,
and only then replays the body to the app. Its errors are problem documents like every other.

A route that parses strictly itself is named in ``parsed_by_route``: the guard then only checks
type and size, and the route calls :func:`parse_json_object` when its own parse fails (see
:mod:`intake_api.submission_route`), so a valid body is parsed once, not twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake_api.problems import problem_response
from intake_core.web import is_json_media_type


class Refused(Exception):
    """The body is refused: ``response`` is the problem document that says why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def parse_json_object(body: bytes) -> dict[str, object]:
    """Strict JSON: UTF-8 (RFC 8259; a byte order mark is let pass), no NaN/Infinity, no numbers
    that overflow, no absurd nesting, an object. (``json.loads`` would guess UTF-16 or -32 from
    the bytes.)"""
    try:
        text = body.decode("utf-8-sig")
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        # ValueError covers syntax, encoding, NaN and integers beyond Python's digit limit.
        raise Refused(problem_response(400, "The body is not valid JSON.")) from None
    if not isinstance(document, dict):
        raise Refused(problem_response(400, "The body must be a JSON object."))
    return document


class JsonBodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        paths: Collection[str],
        max_body_bytes: int,
        parsed_by_route: Collection[str] = (),
    ) -> None:
        self._app = app
        self._paths = frozenset(paths)
        self._max = max_body_bytes
        self._parsed_by_route = frozenset(parsed_by_route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        try:
            body = await self._read_checked(scope, receive)
            if scope["path"] not in self._parsed_by_route:
                parse_json_object(body)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        await self._app(scope, _replay(body, receive), send)

    async def _read_checked(self, scope: Scope, receive: Receive) -> bytes:
        headers = Headers(scope=scope)
        if not is_json_media_type(headers.get("content-type")):
            raise Refused(problem_response(415, "Send the body as application/json."))
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            raise Refused(problem_response(400, "The Content-Length header is not valid."))
        if declared is not None and int(declared) > self._max:
            raise Refused(self._too_large())
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(problem_response(400, "The request body was not received."))
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max:
                raise Refused(self._too_large())
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> Response:
        return problem_response(413, f"The body must not exceed {self._max} bytes.")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, the app only waits here to learn of a disconnect: pass it through.
        return await receive()

    return replay
