"""/healthz, /readyz, /metrics, and what happens when the store is down.

The store's outage is a stand-in here (a method replaced to raise ``StoreUnavailable``): no
real fault makes an embedded-store read fail on demand, since WAL readers are not blocked by a
writer's lock. What a real outage does is in the chaos suite (a held ``BEGIN EXCLUSIVE``, the
store's files locked) and the breaker's own tests (tests/unit/core/test_breakers.py).
"""

from __future__ import annotations

from intake_core.ports.store import StoreUnavailable


def test_healthz(harness):
    response = harness.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_pings_the_store(harness, monkeypatch):
    assert harness.client.get("/readyz").status_code == 200

    async def down() -> None:
        raise StoreUnavailable("disk gone")

    monkeypatch.setattr(harness.store, "ping", down)
    response = harness.client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.headers["content-type"] == "application/problem+json"
    assert "disk gone" not in response.text


def test_a_store_outage_is_503_with_retry_after_on_staff_routes(harness, monkeypatch):
    async def down(*_: object) -> None:
        raise StoreUnavailable("locked")

    monkeypatch.setattr(harness.store, "search_hits", down)
    response = harness.client.get("/v1/submissions", headers=harness.auth("Submissions.Read"))
    assert response.status_code == 503
    assert response.headers["retry-after"]


def test_metrics_count_requests_by_route_template(harness):
    client_id = harness.seed().client_id
    harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth("Submissions.Read"))
    harness.client.get("/some/random/path")
    text = harness.client.get("/metrics").text
    assert 'route="/v1/submissions/{clientId}"' in text
    assert 'route="unmatched"' in text
    assert client_id not in text and "/some/random/path" not in text
    assert "http_request_duration_seconds_bucket" in text


def test_two_apps_keep_separate_metrics(settings, tmp_path):
    from admin_api.app import create_app

    # With the global default registry, the second app would raise "Duplicated timeseries".
    first, second = create_app(settings), create_app(settings)
    assert first.openapi() == second.openapi()


def test_the_openapi_schema_publishes_the_enums(harness):
    schema = harness.client.get("/openapi.json").json()
    parameters = {p["name"] for p in schema["paths"]["/v1/submissions"]["get"]["parameters"]}
    assert {
        "q",
        "industry",
        "serviceType",
        "status",
        "submittedFrom",
        "submittedTo",
        "limit",
        "continuationToken",
    } <= parameters


def test_staff_requests_are_traced_and_probes_are_not(harness, tracer_provider):
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    harness.client.get(
        "/v1/submissions", headers={**harness.auth("Submissions.Read"), "traceparent": caller}
    )
    harness.client.get("/healthz")

    server_spans = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert [span.name for span in server_spans] == ["GET /v1/submissions"]
    assert format(server_spans[0].context.trace_id, "032x") == caller.split("-")[1]
    exporter.shutdown()


def test_a_failing_store_opens_the_breaker_and_is_not_called_while_it_is_open(harness, monkeypatch):
    calls = 0

    async def down(*_: object) -> None:
        nonlocal calls
        calls += 1
        raise StoreUnavailable("locked")

    monkeypatch.setattr(harness.store, "search_hits", down)
    headers = harness.auth("Submissions.Read")
    for _ in range(5):  # STORE_BREAKER_FAILURES
        assert harness.client.get("/v1/submissions", headers=headers).status_code == 503
    refused = harness.client.get("/v1/submissions", headers=headers)
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert calls == 5, "an open breaker answers without calling the store"
    assert harness.client.get("/readyz").status_code == 503
    assert "admin_api_store_breaker_open 1.0" in harness.client.get("/metrics").text
