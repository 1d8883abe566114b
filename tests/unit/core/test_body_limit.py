"""BodyLimit, the one request-body limiter of the three web services, over raw ASGI messages."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from intake_core.http_metrics import HttpMetrics, RequestMetrics
from intake_core.web import BodyLimit

LIMIT = 100


class _Exchange:
    """One request through the limit to an app that reads twice (the body, then whatever comes
    next) and answers 201. Refusals answer ``refused <status>`` in plain text."""

    def __init__(self, *messages: dict) -> None:
        self.client_messages = list(messages)
        self.reads = 0
        self.app_received: list[dict] = []
        self.sent: list[dict] = []
        self.refused_with: list[int] = []

    async def app(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.app_received.append(await receive())
            self.app_received.append(await receive())
            await send({"type": "http.response.start", "status": 201, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            self.app_received.append({"scope": scope["type"]})

    async def refuse(self, request: Request, status: int) -> Response:
        assert request.url.path == "/v1/things"
        self.refused_with.append(status)
        return PlainTextResponse(f"refused {status}", status_code=status)

    async def receive(self) -> dict:
        self.reads += 1
        return self.client_messages.pop(0)

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    async def run(self, scope: dict, outer=None) -> None:
        app = BodyLimit(self.app, max_bytes=LIMIT, on_refuse=self.refuse)
        await (outer(app) if outer else app)(scope, self.receive, self.send)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]


def _post(headers: dict[str, str] | None = None) -> dict:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/things",
        "query_string": b"",
        "headers": [(name.encode(), value.encode()) for name, value in (headers or {}).items()],
    }


def _chunk(body: bytes, more: bool = False) -> dict:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_the_app_gets_the_whole_body_then_whatever_the_client_sends_next() -> None:
    # After the replayed body, the app's next read is the client's own, so it learns of a
    # disconnect (a streaming answer stops) instead of being handed the body again.
    exchange = _Exchange(_chunk(b'{"a":', more=True), _chunk(b"1}"), {"type": "http.disconnect"})
    await exchange.run(_post())
    assert exchange.status == 201
    assert exchange.app_received == [_chunk(b'{"a":1}'), {"type": "http.disconnect"}]


async def test_a_body_message_that_does_not_say_more_is_the_last() -> None:
    # ASGI: "more_body" defaults to false.
    exchange = _Exchange({"type": "http.request", "body": b"{}"}, {"type": "http.disconnect"})
    await exchange.run(_post({"content-length": "2"}))
    assert exchange.status == 201
    assert exchange.app_received[0]["body"] == b"{}"


async def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413_unseen() -> None:
    body = b"x" * LIMIT
    exchange = _Exchange(
        _chunk(body[:50], more=True), _chunk(body[50:]), {"type": "http.disconnect"}
    )
    await exchange.run(_post())
    assert exchange.status == 201
    exchange = _Exchange(_chunk(body[:50], more=True), _chunk(body[50:] + b" "))
    await exchange.run(_post())
    assert (exchange.status, exchange.refused_with) == (413, [413])
    assert exchange.app_received == []


async def test_a_declared_length_over_the_limit_is_413_before_a_byte_is_read() -> None:
    exchange = _Exchange()
    await exchange.run(_post({"content-length": str(LIMIT + 1)}))
    assert (exchange.status, exchange.reads, exchange.app_received) == (413, 0, [])


async def test_a_body_longer_than_its_declared_length_is_counted_not_trusted() -> None:
    # A server need not hold a body to its Content-Length (uvicorn's h11 gives a chunked body
    # that also declares one whole; tests/integration/admin_api shows it on a real socket).
    chunks = [_chunk(b"x" * 40, more=True) for _ in range(3)]
    exchange = _Exchange(*chunks, _chunk(b""))
    await exchange.run(_post({"content-length": "5", "transfer-encoding": "chunked"}))
    assert exchange.status == 413
    assert exchange.app_received == []


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("2x", 400),
        ("-1", 400),
        ("", 400),
        ("1e3", 400),
        ("٣", 400),  # a digit, but not an ASCII one
        ("9" * 5000, 413),  # beyond int()'s 4300 digits: still just too large
        ("0" * 5000 + "2", 201),
    ],
)
async def test_a_declared_length_is_a_plain_number(length: str, status: int) -> None:
    exchange = _Exchange(_chunk(b"{}"), {"type": "http.disconnect"})
    await exchange.run(_post({"content-length": length}))
    assert exchange.status == status
    assert exchange.refused_with == ([] if status == 201 else [status])


async def test_a_client_that_leaves_mid_body_gets_no_answer_and_counts_as_499() -> None:
    metrics = HttpMetrics()
    exchange = _Exchange(_chunk(b'{"a":1}', more=True), {"type": "http.disconnect"})
    await exchange.run(_post(), outer=lambda app: RequestMetrics(app, metrics))
    assert exchange.sent == [] and exchange.app_received == [] and exchange.refused_with == []
    assert _counted(metrics) == {"499": 1.0}


async def test_an_app_that_raises_still_counts_as_500() -> None:
    metrics = HttpMetrics()

    async def failing(scope, receive, send) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await RequestMetrics(failing, metrics)(_post(), _Exchange().receive, _Exchange().send)
    assert _counted(metrics) == {"500": 1.0}


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
async def test_scopes_other_than_http_go_straight_to_the_app(scope_type: str) -> None:
    exchange = _Exchange()
    await exchange.run({"type": scope_type})
    assert exchange.app_received == [{"scope": scope_type}]
    assert exchange.reads == 0


def _counted(metrics: HttpMetrics) -> dict[str, float]:
    return {
        sample.labels["status"]: sample.value
        for metric in metrics.requests.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
