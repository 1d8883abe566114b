"""Without an exporter spans are not recorded, yet trace context still flows; the role name;
exported spans hold no query strings."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from intake_core import telemetry
from intake_core.telemetry import tracer_provider


def test_without_an_exporter_spans_are_dropped_but_keep_their_ids() -> None:
    tracer = tracer_provider("test").get_tracer("test")
    with tracer.start_as_current_span("outer") as outer, tracer.start_span("inner") as inner:
        assert not outer.is_recording()
        assert outer.get_span_context().is_valid  # a traceparent can still be written
        assert inner.get_span_context().trace_id == outer.get_span_context().trace_id
        assert inner.get_span_context().span_id != outer.get_span_context().span_id


def test_with_an_exporter_spans_are_recorded() -> None:
    provider = tracer_provider("test", "console")
    with provider.get_tracer("test").start_as_current_span("recorded") as span:
        assert span.is_recording()
    provider.shutdown()


def test_the_azure_monitor_exporter_signs_in_with_entra_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """App Insights has local auth off (monitoring.bicep): the exporter must carry a token
    credential, or every export is refused. A real exporter, kept off the network: no span is
    exported, and the SDK's own usage reporting is off."""
    for switch in (
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",
        "APPLICATIONINSIGHTS_SDKSTATS_DISABLED",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED",
    ):
        monkeypatch.setenv(switch, "true")
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.identity import DefaultAzureCredential
    from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

    from intake_core.telemetry import _exporter

    exporter = _exporter(
        "azuremonitor",
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        "IngestionEndpoint=https://eastus-8.in.applicationinsights.azure.com/",
    )
    assert isinstance(exporter, AzureMonitorTraceExporter)
    assert isinstance(exporter._credential, DefaultAzureCredential)
    policies = exporter.client._client._pipeline._impl_policies  # type: ignore[attr-defined]
    assert any(
        isinstance(getattr(policy, "_policy", policy), BearerTokenCredentialPolicy)
        for policy in policies
    )
    exporter.shutdown()


@pytest.mark.parametrize("service", ["intake-api", "admin-api", "intake-ui", "notify-worker"])
def test_cloud_role_name_is_the_role_the_exporter_files_telemetry_under(service: str) -> None:
    """Application Insights' AppRoleName: queries on it (the deploy's SLO gate) use this."""
    from azure.monitor.opentelemetry.exporter._utils import _get_cloud_role

    from intake_core.telemetry import cloud_role_name

    assert cloud_role_name(service) == _get_cloud_role(tracer_provider(service).resource)
    assert cloud_role_name(service) == f"onboarding.{service}"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """In the Azure Monitor exporter's place, in the pipeline ``tracer_provider`` builds."""
    memory = InMemorySpanExporter()
    monkeypatch.setattr(telemetry, "_exporter", lambda *_: memory)
    return memory


def test_exported_spans_hold_no_query_string_whenever_it_was_set(
    exporter: InMemorySpanExporter,
) -> None:
    """Both HTTP semantic conventions' names; set at the start or later, as the ASGI middleware
    sets them again after the start; a fragment too. Paths and everything else stay."""
    provider = tracer_provider("test", "azuremonitor")
    tracer = provider.get_tracer("test")
    started = {
        "url.query": "q=ada%40example.com",
        "http.target": "/admin?q=Ada+Lovelace",
        "http.route": "/admin",
    }
    with tracer.start_as_current_span(
        "GET /admin", kind=SpanKind.SERVER, attributes=started
    ) as span:
        span.set_attribute("http.url", "https://onboarding.example/admin?q=ada@example.com#top")
        span.set_attribute("url.full", "https://onboarding.example/admin?q=Ada%20Lovelace")
        span.set_attribute("http.status_code", 200)
    provider.force_flush()
    [exported] = exporter.get_finished_spans()
    assert dict(exported.attributes or {}) == {
        "http.target": "/admin",
        "http.route": "/admin",
        "http.url": "https://onboarding.example/admin",
        "url.full": "https://onboarding.example/admin",
        "http.status_code": 200,
    }
    assert exported.context == span.get_span_context() and exported.name == "GET /admin"
    provider.shutdown()


def test_an_exception_quoting_a_url_is_exported_without_its_query(
    exporter: InMemorySpanExporter,
) -> None:
    """httpx's errors quote the request's URL, and a span records an error's text twice: in
    the exception event (message and stack trace) and in the status."""
    provider = tracer_provider("test", "azuremonitor")
    request = httpx.Request("GET", "http://admin-api/v1/submissions?q=Ada+Lovelace")
    with (
        pytest.raises(httpx.HTTPStatusError, match="Lovelace"),
        provider.get_tracer("test").start_as_current_span("GET", kind=SpanKind.CLIENT),
    ):
        httpx.Response(500, request=request).raise_for_status()
    provider.force_flush()
    [exported] = exporter.get_finished_spans()
    [event] = exported.events
    texts = [str(value) for value in (event.attributes or {}).values()]
    texts.append(exported.status.description or "")
    assert not [text for text in texts if "Lovelace" in text]
    assert "for url 'http://admin-api/v1/submissions'" in str(event.attributes)
    assert "for url 'http://admin-api/v1/submissions'" in (exported.status.description or "")
    provider.shutdown()
