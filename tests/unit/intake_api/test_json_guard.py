"""Strict JSON parsing: what FastAPI would accept (NaN) or choke on (depth) is refused as 400."""

from __future__ import annotations

import pytest

from intake_api.json_guard import JsonBodyGuard, Refused, parse_json_object
from intake_core.web import is_json_media_type


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"size": NaN}',
        b'{"size": Infinity}',
        b'{"size": -Infinity}',
        b'{"size": 1e400}',
        b'{"size": ' + b"9" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"\xff\xfe\x00garbage",
        b'"just a string"',
        b"[1, 2]",
        b"null",
        b"42",
    ],
)
def test_refused_with_400(body: bytes) -> None:
    with pytest.raises(Refused) as refused:
        parse_json_object(body)
    response = refused.value.response
    assert response.status_code == 400
    assert response.media_type == "application/problem+json"


def test_accepts_an_object_with_unicode_escapes() -> None:
    assert parse_json_object(b'{"name": "Caf\\u00e9", "size": 1.5e3}') == {
        "name": "Café",
        "size": 1500.0,
    }


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/json", False),
        ("application/javascript", False),
        ("*/json", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types(content_type: str | None, expected: bool) -> None:
    assert is_json_media_type(content_type) is expected


class _Exchange:
    """One request through the guard to an app that reads what it is given and answers 201.
    The guard sits inside BodyLimit, which hands it the body whole (tests/unit/core)."""

    def __init__(self, *messages: dict) -> None:
        self.client_messages = list(messages)
        self.app_received: list[dict] = []
        self.sent: list[dict] = []

    async def app(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.app_received.append(await receive())
            self.app_received.append(await receive())
            await send({"type": "http.response.start", "status": 201, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            self.app_received.append({"scope": scope["type"]})

    async def receive(self) -> dict:
        return self.client_messages.pop(0)

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    async def run(self, scope: dict) -> None:
        guard = JsonBodyGuard(
            self.app, paths={"/v1/submissions", "/v1/parsed"}, parsed_by_route={"/v1/parsed"}
        )
        await guard(scope, self.receive, self.send)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]


def _post(headers: dict[str, str] | None = None, path: str = "/v1/submissions") -> dict:
    headers = {"content-type": "application/json", **(headers or {})}
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }


def _chunk(body: bytes, more: bool = False) -> dict:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_the_app_gets_the_parsed_body_then_whatever_the_client_sends_next() -> None:
    exchange = _Exchange(_chunk(b'{"a":1}'), {"type": "http.disconnect"})
    await exchange.run(_post())
    assert exchange.status == 201
    assert exchange.app_received == [_chunk(b'{"a":1}'), {"type": "http.disconnect"}]


async def test_a_body_that_is_not_a_json_object_is_400_and_the_app_never_runs() -> None:
    exchange = _Exchange(_chunk(b"[1]"))
    await exchange.run(_post())
    assert exchange.status == 400
    assert exchange.app_received == []


@pytest.mark.parametrize("path", ["/v1/submissions", "/v1/parsed"])
async def test_a_body_not_sent_as_json_is_415_unread(path: str) -> None:
    exchange = _Exchange()
    await exchange.run(_post({"content-type": "text/plain"}, path))
    assert exchange.status == 415
    assert exchange.app_received == []


async def test_a_route_that_parses_itself_reads_the_body_untouched() -> None:
    # No read and replay on the hot path: the route's own receive is the server's.
    exchange = _Exchange(_chunk(b"not json"), {"type": "http.disconnect"})
    await exchange.run(_post(path="/v1/parsed"))
    assert exchange.status == 201
    assert exchange.app_received == [_chunk(b"not json"), {"type": "http.disconnect"}]


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
async def test_scopes_other_than_http_go_straight_to_the_app(scope_type: str) -> None:
    exchange = _Exchange()
    await exchange.run({"type": scope_type})
    assert exchange.app_received == [{"scope": scope_type}]
