"""What the UI's clients of intake-api and admin-api do on the wire: which answers they retry
and how often, what the circuit breaker counts, which headers they send, how answers map to
the UI's outcomes and exceptions. Each against an ``httpx.MockTransport`` that records calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from intake_core.breakers import Breaker
from intake_ui.admin_api import (
    AdminApiClient,
    AdminApiUnavailable,
    ChangedMeanwhile,
    InvalidRequest,
    MissingRole,
    NotAllowedNow,
    RecordNotFound,
    SignInExpired,
)
from intake_ui.intake_api import (
    FieldProblem,
    IntakeApiClient,
    Invalid,
    KeyReused,
    Refused,
    StatusFound,
    Submitted,
    Throttled,
    Unavailable,
)

Answer = httpx.Response | Exception


class Recorder:
    """Answers requests in order from ``answers`` (the last one repeats) and keeps each request."""

    def __init__(self, *answers: Answer) -> None:
        self.requests: list[httpx.Request] = []
        self._answers: Iterator[Answer] = iter(answers)
        self._last: Answer = answers[-1]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = next(self._answers, self._last)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def http(self, base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self), base_url=base_url)


def answer(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def intake_client(recorder: Recorder, **options: object) -> IntakeApiClient:
    return IntakeApiClient(recorder.http("http://intake-api"), max_wait_seconds=0.001, **options)  # type: ignore[arg-type]


def admin_client(recorder: Recorder, **options: object) -> AdminApiClient:
    return AdminApiClient(recorder.http("http://admin-api"), max_wait_seconds=0.001, **options)  # type: ignore[arg-type]


# intake-api


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_intake_retries_a_gateway_answer_with_the_same_key(status: int) -> None:
    recorder = Recorder(answer(status), answer(201, {"clientId": "C-1"}))
    outcome = await intake_client(recorder).submit({"a": 1}, "key-1")
    assert outcome == Submitted("C-1")
    assert [r.headers["idempotency-key"] for r in recorder.requests] == ["key-1", "key-1"]


async def test_intake_retries_a_transport_error() -> None:
    recorder = Recorder(httpx.ConnectError("refused"), answer(201, {"clientId": "C-1"}))
    assert await intake_client(recorder).submit({}, "k") == Submitted("C-1")
    assert len(recorder.requests) == 2


async def test_intake_gives_up_after_its_attempts() -> None:
    recorder = Recorder(answer(503))
    assert await intake_client(recorder, attempts=3).submit({}, "k") == Unavailable()
    assert len(recorder.requests) == 3


async def test_intake_gives_up_after_its_time_limit() -> None:
    recorder = Recorder(answer(503))
    client = intake_client(recorder, attempts=50, give_up_after_seconds=0.0)
    assert await client.submit({}, "k") == Unavailable()
    assert len(recorder.requests) == 1


async def test_intake_does_not_retry_a_500_and_shows_it_refused() -> None:
    recorder = Recorder(answer(500))
    assert await intake_client(recorder).submit({}, "k") == Refused(500)
    assert len(recorder.requests) == 1


async def test_intake_maps_each_answer_to_an_outcome() -> None:
    problems = {"errors": [{"path": "/company/name", "message": "Required"}]}
    cases: list[tuple[httpx.Response, object]] = [
        (answer(200, {"clientId": "C-2"}), Submitted("C-2")),
        (answer(201, {}), Unavailable()),
        (answer(409), KeyReused()),
        (answer(422, problems), Invalid((FieldProblem("company.name", "Required"),))),
        (answer(429, headers={"Retry-After": "42"}), Throttled(42)),
        (answer(429), Throttled(30)),
        (httpx.Response(201, text="not json"), Unavailable()),
        (answer(413), Refused(413)),
    ]
    for response, outcome in cases:
        assert await intake_client(Recorder(response)).submit({}, "k") == outcome


async def test_intake_forwards_the_browser_and_its_address() -> None:
    recorder = Recorder(answer(201, {"clientId": "C-1"}))
    await intake_client(recorder).submit({"a": 1}, "k", "203.0.113.9", "Firefox/1")
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.url == "http://intake-api/v1/submissions"
    assert request.headers["user-agent"] == "Firefox/1"
    assert request.headers["x-forwarded-for"] == "203.0.113.9"
    assert request.read() == b'{"a":1}'


async def test_intake_lookup_posts_and_maps_the_answer() -> None:
    recorder = Recorder(answer(200, {"status": "received"}))
    client = intake_client(recorder)
    assert await client.lookup_status("C-1", "a@b.example") == StatusFound("received")
    assert recorder.requests[0].url == "http://intake-api/v1/status-lookup"
    assert "x-forwarded-for" not in recorder.requests[0].headers


async def test_intake_breaker_counts_a_call_once_and_then_refuses_without_calling() -> None:
    recorder = Recorder(answer(503))
    breaker = Breaker("intake-api", failures=2, reset_seconds=60)
    client = intake_client(recorder, attempts=3, breaker=breaker)
    assert await client.submit({}, "k") == Unavailable()
    assert not client.breaker_open  # one call with three tries is one failure
    assert await client.submit({}, "k") == Unavailable()
    assert client.breaker_open
    assert len(recorder.requests) == 6
    assert await client.submit({}, "k") == Unavailable()
    assert len(recorder.requests) == 6


async def test_intake_breaker_does_not_count_an_answer() -> None:
    recorder = Recorder(answer(500))
    client = intake_client(recorder, breaker=Breaker("intake-api", failures=1, reset_seconds=60))
    assert await client.submit({}, "k") == Refused(500)
    assert not client.breaker_open


async def test_intake_breaker_does_not_count_a_cancelled_call() -> None:
    """A submission cancelled while intake-api is still answering (the UI stopping, say) says
    nothing about intake-api: the next visitor is still let through."""
    answering = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        answering.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    http = httpx.AsyncClient(transport=httpx.MockTransport(slow), base_url="http://intake-api")
    client = IntakeApiClient(http, breaker=Breaker("intake-api", failures=1, reset_seconds=60))
    submitting = asyncio.create_task(client.submit({}, "k"))
    await answering.wait()
    submitting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await submitting
    assert not client.breaker_open


# admin-api


async def test_admin_retries_a_read_on_any_5xx_with_the_token() -> None:
    rows = {"items": []}
    recorder = Recorder(answer(500), answer(200, rows))
    result = await admin_client(recorder).search("tok", {"q": "x"})
    assert result.items == []
    assert len(recorder.requests) == 2
    for request in recorder.requests:
        assert request.headers["authorization"] == "Bearer tok"
        assert request.url == "http://admin-api/v1/submissions?q=x"


async def test_admin_gives_up_after_two_attempts() -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(AdminApiUnavailable):
        await admin_client(recorder).figures("tok", 7)
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda client: client.change_status("tok", "C-1", "approved", '"e1"'),
        lambda client: client.erase("tok", "C-1", "request", None),
    ],
    ids=["patch", "erase"],
)
async def test_admin_never_retries_a_change(change: Callable[[AdminApiClient], object]) -> None:
    recorder = Recorder(answer(503), answer(200))
    with pytest.raises(AdminApiUnavailable):
        await change(admin_client(recorder))  # type: ignore[misc]
    assert len(recorder.requests) == 1


async def test_admin_change_sends_if_match_and_answers_the_new_etag() -> None:
    recorder = Recorder(answer(200, {"status": "approved"}, {"ETag": '"e2"'}))
    assert await admin_client(recorder).change_status("tok", "C-1", "approved", '"e1"') == '"e2"'
    request = recorder.requests[0]
    assert (request.method, request.headers["if-match"]) == ("PATCH", '"e1"')
    assert request.headers["authorization"] == "Bearer tok"
    assert request.read() == b'{"status":"approved"}'


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, SignInExpired),
        (403, MissingRole),
        (404, RecordNotFound),
        (409, NotAllowedNow),
        (412, ChangedMeanwhile),
        (422, InvalidRequest),
        (400, AdminApiUnavailable),
        (503, AdminApiUnavailable),
    ],
)
async def test_admin_maps_each_refusal_to_an_error(status: int, error: type[Exception]) -> None:
    recorder = Recorder(answer(status, {"detail": "why"}))
    with pytest.raises(error):
        await admin_client(recorder).audit_trail("tok", "C-1")


async def test_admin_errors_carry_the_role_and_the_fields() -> None:
    body = {"detail": "d", "role": "Submissions.Erase"}
    with pytest.raises(MissingRole) as missing:
        await admin_client(Recorder(answer(403, body))).record("tok", "C-1")
    assert (missing.value.detail, missing.value.role) == ("d", "Submissions.Erase")
    body = {"detail": "d", "errors": [{"path": "note"}, {"nope": 1}]}
    with pytest.raises(InvalidRequest) as invalid:
        await admin_client(Recorder(answer(422, body))).erase("tok", "C-1", "r", "n")
    assert invalid.value.fields == ("note",)


async def test_admin_download_is_sent_once_and_streamed() -> None:
    recorder = Recorder(answer(503), answer(200))
    with pytest.raises(AdminApiUnavailable):
        await admin_client(recorder).export_csv("tok", {})
    assert len(recorder.requests) == 1
    csv = httpx.Response(
        200, headers={"content-type": "text/csv"}, stream=httpx.ByteStream(b"a,b\n")
    )
    recorder = Recorder(csv)
    download = await admin_client(recorder).export_csv("tok", {"q": "x"})
    assert download.headers == {"content-type": "text/csv"}
    assert b"".join([chunk async for chunk in download.chunks()]) == b"a,b\n"
    assert recorder.requests[0].headers["authorization"] == "Bearer tok"
    with pytest.raises(RecordNotFound):
        await admin_client(Recorder(answer(404))).subject_export("tok", "C-1")


async def test_admin_breaker_counts_unavailable_calls_not_refusals() -> None:
    recorder = Recorder(answer(404))
    client = admin_client(recorder, breaker=Breaker("admin-api", failures=1, reset_seconds=60))
    with pytest.raises(RecordNotFound):
        await client.record("tok", "C-1")
    assert not client.breaker_open
    recorder = Recorder(answer(502))
    client = admin_client(recorder, breaker=Breaker("admin-api", failures=1, reset_seconds=60))
    with pytest.raises(AdminApiUnavailable):
        await client.record("tok", "C-1")
    assert client.breaker_open
    with pytest.raises(AdminApiUnavailable):
        await client.export_csv("tok", {})
    assert len(recorder.requests) == 2


# both


@pytest.mark.parametrize(
    "build",
    [
        lambda: IntakeApiClient.for_url("http://intake-api:8000", 5.0, attempts=3),
        lambda: AdminApiClient.for_url("http://admin-api:8000", 5.0),
    ],
    ids=["intake", "admin"],
)
async def test_for_url_sets_the_timeouts_and_the_accept_header(build: Callable[[], object]) -> None:
    client = build()
    http: httpx.AsyncClient = client._http  # type: ignore[attr-defined]
    assert http.timeout == httpx.Timeout(5.0, connect=3.0)
    assert http.headers["accept"] == "application/json, application/problem+json"
    await client.aclose()  # type: ignore[attr-defined]
    assert http.is_closed
