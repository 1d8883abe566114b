"""Probes, metrics and the published OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from intake_api.dependencies import Adapters
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import submission_created
from intake_core.domain.models import BudgetRange, Industry, ServiceType, Timeline
from intake_core.logs import JsonFormatter
from intake_core.ports.store import StoreUnavailable
from support import make_submission


class StorePingFails:
    """The real store whose ping fails, as a lost database connection would make it;
    the embedded SQLite file cannot be made unreachable from a test."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def ping(self) -> None:
        raise StoreUnavailable("unable to open database file /secret/path")


class PublisherHangs:
    """The real queue whose ping never answers, like a bus behind a black-holed network."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def ping(self) -> None:
        await asyncio.sleep(3600)


async def test_healthz(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_healthz_does_not_touch_dependencies(serve, store, queue) -> None:
    adapters = Adapters(store=StorePingFails(store), publisher=PublisherHangs(queue))
    async with serve(adapters=adapters) as client:
        assert (await client.get("/healthz")).status_code == 200


async def test_ready(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok", "publisher": "ok"}}


async def test_not_ready_names_the_failed_store(serve, store, queue, problem) -> None:
    async with serve(adapters=Adapters(store=StorePingFails(store), publisher=queue)) as client:
        response = await client.get("/readyz")
    body = problem(response, 503)
    assert body["failed"] == ["store"]
    assert "/secret/path" not in response.text


async def test_a_bus_that_does_not_answer_leaves_it_ready_but_degraded(serve, store, queue) -> None:
    # Submissions still succeed with the bus down (their events wait in the outbox): a replica
    # taken out of the Service for it would turn a bus outage into an outage of the form.
    async with serve(adapters=Adapters(store=store, publisher=PublisherHangs(queue))) as client:
        async with asyncio.timeout(5):
            response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"store": "ok", "publisher": "failing"},
    }


async def test_not_ready_names_every_failed_dependency(serve, store, queue, problem) -> None:
    adapters = Adapters(store=StorePingFails(store), publisher=PublisherHangs(queue))
    async with serve(adapters=adapters) as client:
        async with asyncio.timeout(5):
            response = await client.get("/readyz")
    assert problem(response, 503)["failed"] == ["store", "publisher"]


async def test_not_ready_after_the_store_is_closed(tmp_path, running, queue, problem) -> None:
    from intake_api.app import create_app
    from intake_api.settings import IntakeApiSettings
    from intake_core.adapters.sqlite_store import SqliteSubmissionStore

    store = SqliteSubmissionStore(tmp_path / "closed.db")
    await store.open()
    app = create_app(
        IntakeApiSettings(INTAKE_DATA_DIR=tmp_path, relay_enabled=False),
        Adapters(store=store, publisher=queue),
    )
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        await store.close()
        response = await client.get("/readyz")
    assert problem(response, 503)["failed"] == ["store"]


async def test_metrics(client, valid_body) -> None:
    await client.post("/v1/submissions", json=valid_body)
    await client.post("/v1/submissions", json={})
    await client.get("/no-such-page")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "intake_submissions_total",
        "intake_outbox_backlog",
        "intake_outbox_oldest_age_seconds",
        "intake_relay_published_total",
        "intake_store_breaker_open",
        "intake_bus_breaker_open",
    ):
        assert name in text
    assert 'intake_submissions_total{outcome="created"} 1.0' in text
    assert 'http_requests_total{method="POST",route="/v1/submissions",status="201"} 1.0' in text
    assert 'route="/v1/submissions",status="422"' in text
    assert 'route="unmatched",status="404"' in text
    assert "/no-such-page" not in text


async def test_refused_bodies_count_as_invalid_submissions(client, valid_body) -> None:
    """A body that is not a submission (422) or not JSON (400) is an ``invalid`` outcome, as
    the runbooks read it, as an unknown privacy notice version already was."""
    assert (await client.post("/v1/submissions", json={})).status_code == 422
    not_json = await client.post(
        "/v1/submissions", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert (await client.post("/v1/submissions", json=valid_body)).status_code == 201

    text = (await client.get("/metrics")).text

    assert 'intake_submissions_total{outcome="invalid"} 2.0' in text


async def test_metrics_count_what_the_fast_path_publishes(client, valid_body) -> None:
    """Without these the dashboard's publishes per path, and the runbook's "published flat"
    symptom, would show nothing while the fast path carries every event."""
    for _ in range(2):
        assert (await client.post("/v1/submissions", json=valid_body)).status_code == 201
    published = 'intake_relay_published_total{path="fast"} 2.0'
    async with asyncio.timeout(5):  # the fast path publishes after the answer
        while published not in (text := (await client.get("/metrics")).text):
            await asyncio.sleep(0.02)
    assert 'intake_relay_publish_duration_seconds_count{path="fast"}' in text


def scraped(text: str, name: str) -> float:
    [value] = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]
    return value


async def test_metrics_date_the_oldest_unpublished_outbox_event(serve, store) -> None:
    async with serve(relay_enabled=False) as client:
        empty = (await client.get("/metrics")).text
        assert scraped(empty, "intake_outbox_backlog") == 0
        assert scraped(empty, "intake_outbox_oldest_age_seconds") == 0

        for minutes_ago in (2, 1):
            submission = make_submission(
                submitted_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)
            )
            event = submission_created(submission)
            audit = AuditEntry("submission.created", "client", datetime.now(UTC))
            await store.save_new(submission, event, audit)
        text = (await client.get("/metrics")).text

    assert scraped(text, "intake_outbox_backlog") == 2
    assert 120 <= scraped(text, "intake_outbox_oldest_age_seconds") < 130


async def test_two_apps_in_one_process_keep_separate_metrics(serve, valid_body) -> None:
    async with serve() as first, serve() as second:
        await first.post("/v1/submissions", json=valid_body)
        text = (await second.get("/metrics")).text
    assert 'outcome="created"' not in text


async def test_openapi_publishes_the_contract(client) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "intake-api"
    schemas = document["components"]["schemas"]

    for enum in (Industry, ServiceType, Timeline, BudgetRange):
        assert schemas[enum.__name__]["enum"] == [member.value for member in enum]
    assert set(schemas["Address"]["properties"]) >= {"line1", "postalCode", "country"}
    assert set(schemas["SubmissionAccepted"]["properties"]) == {"clientId", "submittedAt", "status"}

    submit = document["paths"]["/v1/submissions"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/SubmissionCreate"
    )
    assert {"200", "201", "400", "409", "413", "415", "422", "429", "503"} <= set(
        submit["responses"]
    )
    invalid = submit["responses"]["422"]["content"]
    assert list(invalid) == ["application/problem+json"]
    assert invalid["application/problem+json"]["schema"]["$ref"].endswith("/ValidationProblem")
    assert "Idempotency-Key" in {parameter["name"] for parameter in submit["parameters"]}
    lookup = document["paths"]["/v1/status-lookup"]["post"]
    assert "application/problem+json" in lookup["responses"]["404"]["content"]
    assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])


async def test_no_interactive_docs_because_swagger_ui_loads_from_a_cdn(
    tmp_path, running, store, queue
) -> None:
    from intake_api.app import create_app
    from intake_api.settings import IntakeApiSettings

    adapters = Adapters(store=store, publisher=queue)
    async with running(create_app(IntakeApiSettings(INTAKE_DATA_DIR=tmp_path), adapters)) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200


async def test_store_breaker_opens_on_a_locked_store_and_closes_after_it_recovers(
    tmp_path, running, queue, valid_body, problem
) -> None:
    import sqlite3

    from intake_api.app import create_app
    from intake_api.settings import IntakeApiSettings
    from intake_core.adapters.sqlite_store import SqliteSubmissionStore

    path = tmp_path / "locked.db"
    store = SqliteSubmissionStore(path, busy_timeout_seconds=0.1)
    await store.open()
    settings = IntakeApiSettings(
        INTAKE_DATA_DIR=tmp_path,
        relay_enabled=False,
        rate_limit_enabled=False,
        store_breaker_failures=2,
        store_breaker_reset_seconds=1.0,
    )
    app = create_app(settings, Adapters(store=store, publisher=queue))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        async with running(app) as client:
            for _ in range(2):  # each waits out the busy timeout, then fails
                problem(await client.post("/v1/submissions", json=valid_body), 503)
            refused = await client.post("/v1/submissions", json=valid_body)
            problem(refused, 503)
            assert refused.headers["retry-after"] == "1"
            assert "store-breaker" in problem(await client.get("/readyz"), 503)["failed"]
            assert "intake_store_breaker_open 1.0" in (await client.get("/metrics")).text

            blocker.execute("ROLLBACK")
            await asyncio.sleep(1.1)  # the cool-down: then one trial request decides
            assert (await client.post("/v1/submissions", json=valid_body)).status_code == 201
            assert (await client.get("/readyz")).status_code == 200
            assert "intake_store_breaker_open 0.0" in (await client.get("/metrics")).text
    finally:
        blocker.close()
        await store.close()


async def test_each_request_has_an_id_in_its_answer_and_its_log_lines(serve, store, queue) -> None:
    """Support finds a failed request's log lines from the X-Request-ID a caller reports."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter("intake-api"))
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        async with serve(adapters=Adapters(store=StorePingFails(store), publisher=queue)) as client:
            given = await client.get("/readyz", headers={"X-Request-ID": "probe-42"})
            hostile = await client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 500})
    finally:
        logging.getLogger().removeHandler(handler)
    assert given.headers["x-request-id"] == "probe-42"
    [line] = [json.loads(line) for line in lines if "readiness: store failed" in line]
    assert line["request_id"] == "probe-42"
    generated = hostile.headers["x-request-id"]
    assert "<" not in generated and len(generated) == 32
