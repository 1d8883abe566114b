"""Guard JSON endpoints before FastAPI parses a byte: content type, then syntax and shape.

FastAPI would accept ``NaN`` and a body sent as any type; this middleware refuses a body that
is not sent as JSON (415), parses strictly, and only then replays the body to the app. It sits
inside ``intake_core.web.BodyLimit``, which has read the body (counting it: 413 over the limit)
before anything here runs. Its errors are problem documents like every other.

A route that parses strictly itself is named in ``parsed_by_route``: the guard then only checks
the type, and the route calls :func:`parse_json_object` when its own parse fails (see
:mod:`intake_api.submission_route`), so a valid body is parsed once, not twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from intake_core.web import is_json_media_type, problem_response, replaying


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
        self, app: ASGIApp, paths: Collection[str], parsed_by_route: Collection[str] = ()
    ) -> None:
        self._app = app
        self._paths = frozenset(paths)
        self._parsed_by_route = frozenset(parsed_by_route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        if not is_json_media_type(Headers(scope=scope).get("content-type")):
            await problem_response(415, "Send the body as application/json.")(scope, receive, send)
            return
        if scope["path"] in self._parsed_by_route:
            await self._app(scope, receive, send)
            return
        body = await _whole_body(receive)
        try:
            parse_json_object(body)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        await self._app(scope, replaying(body, receive), send)


async def _whole_body(receive: Receive) -> bytes:
    """The body ``BodyLimit`` has read (one message, as it replays it; a loop all the same)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
