"""POST /v1/submissions: the happy path, idempotency and what a failing dependency does."""

from __future__ import annotations

import asyncio
import json

from prometheus_client.parser import text_string_to_metric_families

from intake_api.dependencies import Adapters
from intake_core.domain.client_id import is_client_id
from intake_core.domain.events import CloudEvent
from intake_core.ports.store import StoreUnavailable
from intake_core.web import API_SECURITY_HEADERS


async def depth_once_published(queue, expected: int, within: float = 5.0) -> int:
    """The queue's depth once ``expected`` background fast-path publishes have landed (or the
    deadline passed), so an extra message would still show."""
    deadline = asyncio.get_running_loop().time() + within
    while (depth := await queue.depth()) < expected:
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    return int(depth)


async def test_created(client, store, queue, valid_body, outbox_rows) -> None:
    response = await client.post(
        "/v1/submissions", json=valid_body, headers={"user-agent": "pytest-browser/1.0"}
    )

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"clientId", "submittedAt", "status"}
    assert body["status"] == "received"
    assert is_client_id(body["clientId"])
    for name, value in API_SECURITY_HEADERS.items():
        assert response.headers[name] == value

    record = await store.get(body["clientId"])
    assert record is not None
    assert record.company.contact.email == "ada@example.com"
    assert record.company.contact.phone == "+442079460958"
    assert record.submitted_at.isoformat().startswith(body["submittedAt"][:19])
    assert outbox_rows(body["clientId"]) == 1
    [audit] = await store.audit_trail(body["clientId"])
    assert (audit.action, audit.actor) == ("submission.created", "client")
    assert audit.details["userAgent"] == "pytest-browser/1.0"
    assert len(audit.details["sourceIpHash"]) == 64
    assert "198.51.100.10" not in json.dumps(audit.details)

    # Published in the background right after the answer.
    [delivery] = await queue.receive(10, wait_seconds=5)
    event = CloudEvent.from_json(delivery.body)
    assert event.subject == body["clientId"]
    assert event.type == "intake.submission.created.v1"


async def test_trace_context_travels_with_the_event(client, queue, valid_body) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await client.post(
        "/v1/submissions", json=valid_body, headers={"traceparent": traceparent}
    )
    assert response.status_code == 201
    [delivery] = await queue.receive(10, wait_seconds=5)  # published just after the answer
    # The same trace: the request's span is a child of the caller's, so only the span id changes.
    assert delivery.properties["traceparent"].split("-")[1] == traceparent.split("-")[1]


async def test_same_key_same_body_returns_the_same_client_id(
    client, queue, valid_body, all_records, outbox_rows
) -> None:
    headers = {"idempotency-key": "form-7f3c2a"}
    first = await client.post("/v1/submissions", json=valid_body, headers=headers)
    again = await client.post("/v1/submissions", json=valid_body, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["clientId"] == first.json()["clientId"]
    assert len(await all_records()) == 1
    assert outbox_rows(first.json()["clientId"]) == 1
    assert await depth_once_published(queue, 1) == 1


async def test_same_key_different_body_is_a_conflict(
    client, valid_body, all_records, problem
) -> None:
    headers = {"idempotency-key": "form-7f3c2a"}
    assert (await client.post("/v1/submissions", json=valid_body, headers=headers)).is_success
    valid_body["company"]["size"] = 251

    response = await client.post("/v1/submissions", json=valid_body, headers=headers)

    problem(response, 409)
    assert len(await all_records()) == 1


async def test_a_hundred_concurrent_retries_make_one_record(
    client, queue, valid_body, all_records
) -> None:
    headers = {"idempotency-key": "double-click-storm"}
    responses = await asyncio.gather(
        *(client.post("/v1/submissions", json=valid_body, headers=headers) for _ in range(100))
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 99 + [201]
    assert len({response.json()["clientId"] for response in responses}) == 1
    assert len(await all_records()) == 1
    assert await depth_once_published(queue, 1) == 1


async def test_without_a_key_each_request_is_a_new_submission(
    client, valid_body, all_records
) -> None:
    first = await client.post("/v1/submissions", json=valid_body)
    second = await client.post("/v1/submissions", json=valid_body)
    assert first.json()["clientId"] != second.json()["clientId"]
    assert len(await all_records()) == 2


class StoreDown:
    """The real store, except that every call fails as when the database is unreachable:
    SQLite on a local disk cannot be made unreachable from a test."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        async def unavailable(*args, **kwargs):
            raise StoreUnavailable("disk I/O error at /var/lib/secret/intake.db")

        return unavailable


async def test_store_down_is_503_with_retry_after(
    serve, store, queue, valid_body, all_records, problem
) -> None:
    async with serve(adapters=Adapters(store=StoreDown(store), publisher=queue)) as client:
        response = await client.post("/v1/submissions", json=valid_body)
        lookup = await client.post(
            "/v1/status-lookup", json={"clientId": "CL-0000-0000-0000", "email": "a@b.co"}
        )

    body = problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert "/var/lib/secret" not in response.text
    assert "detail" in body
    problem(lookup, 503)
    assert await all_records() == []
    assert await queue.depth() == 0


class BusDown:
    """A bus that is down until told otherwise (a fake: the embedded queue cannot fail on
    demand); then it forwards to the real queue."""

    def __init__(self, queue) -> None:
        self.queue = queue
        self.down = True

    async def publish(self, event) -> None:
        await self.publish_batch([event])

    async def publish_batch(self, events) -> None:
        if self.down:
            raise ConnectionError("amqp connection refused")
        await self.queue.publish_batch(events)

    async def ping(self) -> None:
        if self.down:
            raise ConnectionError("amqp connection refused")

    async def close(self) -> None: ...


async def test_bus_down_the_submission_succeeds_and_the_relay_delivers_later(
    serve, store, queue, valid_body
) -> None:
    bus = BusDown(queue)
    async with serve(adapters=Adapters(store=store, publisher=bus)) as client:
        response = await client.post("/v1/submissions", json=valid_body)
        assert response.status_code == 201
        assert (await store.outbox_stats()).backlog == 1
        readiness = await client.get("/readyz")
        assert readiness.status_code == 200
        assert readiness.json()["checks"] == {"store": "ok", "publisher": "failing"}

        bus.down = False
        async with asyncio.timeout(10):  # the first retry waits 0.5 to 1 s
            while (await store.outbox_stats()).backlog:
                await asyncio.sleep(0.05)

    [delivery] = await queue.receive(10, wait_seconds=0)
    assert CloudEvent.from_json(delivery.body).subject == response.json()["clientId"]


class SlowBus:
    """The real queue behind a bus that takes a while to answer (a wrapper: the embedded queue
    answers at once)."""

    def __init__(self, queue, seconds: float) -> None:
        self.queue = queue
        self.seconds = seconds

    async def publish(self, event) -> None:
        await self.publish_batch([event])

    async def publish_batch(self, events) -> None:
        await asyncio.sleep(self.seconds)
        await self.queue.publish_batch(events)

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


async def test_the_relay_leaves_events_on_their_way_to_the_fast_path(
    serve, store, queue, valid_body
) -> None:
    """Under load the fast path's events wait their turn; a relay polling meanwhile (every
    50 ms here) must not publish them a second time."""
    async with serve(adapters=Adapters(store=store, publisher=SlowBus(queue, 0.5))) as client:
        for _ in range(5):
            assert (await client.post("/v1/submissions", json=valid_body)).status_code == 201
        async with asyncio.timeout(10):
            while (await store.outbox_stats()).backlog:
                await asyncio.sleep(0.05)
        metrics = (await client.get("/metrics")).text
    published = {
        sample.labels["path"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "intake_relay_published_total"
    }
    assert published == {"fast": 5.0}  # the relay's series would appear with its first event
    assert await queue.depth() == 5


async def test_the_lifespan_opens_and_closes_its_own_adapters(tmp_path, valid_body) -> None:
    """Without deps the app opens SQLite files in INTAKE_DATA_DIR, through the ASGI lifespan
    protocol as uvicorn would drive it (Starlette's TestClient)."""
    from starlette.testclient import TestClient

    from intake_api.app import create_app
    from intake_api.settings import IntakeApiSettings
    from intake_core.adapters.sqlite_store import SqliteSubmissionStore

    settings = IntakeApiSettings(INTAKE_DATA_DIR=tmp_path / "data", rate_limit_enabled=False)
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/submissions", json=valid_body)
        assert response.status_code == 201
        assert client.get("/readyz").status_code == 200

    assert settings.sqlite_path.exists() and settings.queue_path.exists()
    store = SqliteSubmissionStore(settings.sqlite_path)
    await store.open()
    try:
        assert await store.get(response.json()["clientId"]) is not None
        assert (await store.outbox_stats()).backlog == 0
    finally:
        await store.close()


async def test_bodies_arrive_in_chunks(client, valid_body) -> None:
    payload = json.dumps(valid_body).encode()

    async def chunks():
        for start in range(0, len(payload), 17):
            yield payload[start : start + 17]

    response = await client.post(
        "/v1/submissions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201


class StoreBroken:
    """A store with a bug: an unexpected exception, whose text must never reach the client."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def save_new(self, *args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")


async def test_an_unexpected_error_is_a_bare_500(serve, store, queue, valid_body, problem) -> None:
    async with serve(adapters=Adapters(store=StoreBroken(store), publisher=queue)) as client:
        response = await client.post("/v1/submissions", json=valid_body)
    body = problem(response, 500)
    assert "hunter2" not in response.text
    assert set(body) == {"type", "title", "status"}
    for name, value in API_SECURITY_HEADERS.items():
        assert response.headers[name] == value
