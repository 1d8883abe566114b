"""Without an exporter spans are not recorded, yet trace context still flows; the role name."""

from __future__ import annotations

import pytest

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
