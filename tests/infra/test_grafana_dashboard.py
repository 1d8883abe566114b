"""The Grafana dashboard (docs/slo.md): valid, complete, reading only metrics that exist from
data sources every environment has, and shipped by the chart as the sidecar's ConfigMap when
asked to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra.metric_catalogue import exposed_metrics, recorded_metrics, referenced_metrics
from infra.toolbox import CHART, ROOT, Rendering, helm_args, run

pytestmark = pytest.mark.infra

DASHBOARD = CHART / "dashboards" / "onboarding.json"
SERVICEBUS_BICEP = ROOT / "infra" / "bicep" / "modules" / "servicebus.bicep"
ALERTS_BICEP = ROOT / "infra" / "bicep" / "modules" / "alerts.bicep"
# Prometheus is in every environment (kind's kube-prometheus-stack, Managed Grafana's Azure Monitor
# workspace); Azure Monitor only in Managed Grafana.
PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
AZURE_MONITOR = {"type": "grafana-azure-monitor-datasource", "uid": "${azure_monitor}"}
SERVICE_BUS = "Microsoft.ServiceBus/namespaces"
# Azure Monitor's metrics of Microsoft.ServiceBus/namespaces the dashboard may read (Microsoft's
# "Azure Service Bus monitoring data reference"), each split by EntityName, with the aggregations
# the reference gives it: a gauge of messages has no Total, a count of requests only a Total.
SERVICE_BUS_METRICS = {
    "ActiveMessages": {"Average", "Minimum", "Maximum"},
    "DeadletteredMessages": {"Average", "Minimum", "Maximum"},
    "IncomingMessages": {"Total"},
    "CompleteMessage": {"Total"},
    "AbandonMessage": {"Total"},
    "ServerErrors": {"Total"},
    "UserErrors": {"Total"},
    "ThrottledRequests": {"Total"},
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every Prometheus panel target and query variable."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if target["datasource"] == PROMETHEUS:
                yield f"panel {panel['title']!r}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query" and variable["datasource"] == PROMETHEUS:
            query = variable["query"]
            yield (
                f"variable {variable['name']}",
                query["query"] if isinstance(query, dict) else query,
            )


def azure_targets(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every Azure Monitor target."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            if target["datasource"] == AZURE_MONITOR:
                yield panel, target


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in dashboard["templating"]["list"]}


def test_deploy_monitoring_is_the_same_file() -> None:
    shipped = ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
    assert shipped.resolve() == DASHBOARD.resolve(), "one dashboard, linked, never copied"


def test_dashboard_is_valid_grafana_json(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    assert {"datasource", "namespace"} <= variables(dashboard).keys()
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']} queries nothing"
        for target in panel["targets"]:
            if target["datasource"] == PROMETHEUS:
                # Scoped to one release, like the recording rules.
                assert 'namespace="$namespace"' in target["expr"], panel["title"]


def test_every_panel_reads_a_data_source_the_environments_provide(
    dashboard: dict[str, Any],
) -> None:
    """Prometheus everywhere; Azure Monitor only in Managed Grafana, so its panels sit in a row
    that is collapsed (Grafana queries nothing in it until it is opened) and says so."""
    found = variables(dashboard)
    assert {k: found["datasource"][k] for k in ("type", "query")} == {
        "type": "datasource",
        "query": PROMETHEUS["type"],
    }
    assert {k: found["azure_monitor"][k] for k in ("type", "query")} == {
        "type": "datasource",
        "query": AZURE_MONITOR["type"],
    }
    for variable in found.values():
        if variable["type"] == "query":
            assert variable["datasource"] in (PROMETHEUS, AZURE_MONITOR), variable["name"]
    azure_rows = 0
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == PROMETHEUS, panel["title"]
            assert all(t["datasource"] == PROMETHEUS for t in panel["targets"]), panel["title"]
            continue
        inside = panel.get("panels", [])
        if not inside:
            continue
        azure_rows += 1
        assert panel["collapsed"] is True, panel["title"]
        assert "Azure Monitor" in panel["title"] and "Azure only" in panel["title"]
        for member in inside:
            assert member["datasource"] == AZURE_MONITOR, member["title"]
            assert all(t["datasource"] == AZURE_MONITOR for t in member["targets"])
            assert "no data without an Azure Monitor data source" in member["description"]
    assert azure_rows == 1


def test_service_bus_panels_read_service_bus_metrics_of_the_queue_the_bicep_creates(
    dashboard: dict[str, Any],
) -> None:
    queue = re.search(r"(?m)^var queueName = '([^']+)'$", SERVICEBUS_BICEP.read_text())
    assert queue, "servicebus.bicep names its queue in var queueName"
    found = variables(dashboard)
    assert found["queue"]["type"] == "custom"
    assert [option["value"] for option in found["queue"]["options"]] == [queue[1]]
    assert found["queue"]["current"]["value"] == found["queue"]["query"] == queue[1]
    read: set[str] = set()
    for panel, target in azure_targets(dashboard):
        assert target["queryType"] == "Azure Monitor", panel["title"]
        assert target["subscription"] == "$subscription"
        metric = target["azureMonitor"]
        assert metric["metricNamespace"] == SERVICE_BUS
        assert metric["resources"] == [
            {
                "subscription": "$subscription",
                "resourceGroup": "$resource_group",
                "metricNamespace": SERVICE_BUS,
                "resourceName": "$servicebus_namespace",
            }
        ]
        assert metric["dimensionFilters"] == [
            {"dimension": "EntityName", "operator": "eq", "filters": ["$queue"]}
        ], panel["title"]
        name = metric["metricName"]
        assert name in SERVICE_BUS_METRICS, f"{panel['title']}: {name} is no Service Bus metric"
        assert metric["aggregation"] in SERVICE_BUS_METRICS[name], f"{name} {metric['aggregation']}"
        read.add(name)
    assert {"ActiveMessages", "DeadletteredMessages"} <= read
    # The same metrics, namespace and dimension as the queue's metric alerts.
    alerts = ALERTS_BICEP.read_text()
    for name in ("ActiveMessages", "DeadletteredMessages"):
        assert f"metricName: '{name}'" in alerts
    assert f"metricNamespace: '{SERVICE_BUS}'" in alerts and "name: 'EntityName'" in alerts
    # Where the namespace is comes from what the data source can list, never a written id.
    assert found["subscription"]["query"]["queryType"] == "Azure Subscriptions"
    assert found["resource_group"]["query"] | {"refId": ""} == {
        "queryType": "Azure Resource Groups",
        "subscription": "$subscription",
        "refId": "",
    }
    assert found["servicebus_namespace"]["query"] | {"refId": ""} == {
        "queryType": "Azure Resource Names",
        "subscription": "$subscription",
        "resourceGroup": "$resource_group",
        "namespace": SERVICE_BUS,
        "refId": "",
    }
    assert not GUID.search(DASHBOARD.read_text()), "a subscription or resource id in the file"


def test_the_embedded_queue_panel_says_what_it_covers(dashboard: dict[str, Any]) -> None:
    """notify_queue_messages is counted on the embedded queue only: on Service Bus it is empty."""
    (panel,) = [
        panel
        for panel in panels(dashboard)
        if any("notify_queue_messages" in t.get("expr", "") for t in panel.get("targets", []))
    ]
    assert panel["title"].startswith("Embedded queue"), panel["title"]
    assert "empty on Service Bus" in panel["title"]
    assert "Service Bus queue, from Azure Monitor" in panel["description"]


def test_dashboard_reads_only_metrics_the_rules_or_the_services_define(
    dashboard: dict[str, Any], renderings: dict[str, Rendering]
) -> None:
    (rule,) = renderings["values-prod-rules"].of_kind("PrometheusRule")
    known = exposed_metrics() | recorded_metrics(rule["spec"]["groups"])
    read: set[str] = set()
    for where, expr in queries(dashboard):
        names = referenced_metrics(expr)
        assert names, f"{where} reads no metric: {expr}"
        assert names <= known, f"{where} reads {names - known}"
        read |= names
    # The panels docs/slo.md promises: SLIs, budgets, golden signals, async path.
    assert {
        "onboarding:intake_api_availability:error_budget_remaining",
        "onboarding:intake_api_latency:error_budget_remaining",
        "onboarding:submission_freshness:error_budget_remaining",
        "onboarding:intake_api_errors:ratio_period",
        "onboarding:intake_api_slow:ratio_period",
        "onboarding:submission_late:ratio_period",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "notify_submission_to_email_seconds_bucket",
        "intake_outbox_backlog",
        "intake_outbox_oldest_age_seconds",
        "intake_relay_publish_failures_total",
        "notify_messages_total",
        "notify_queue_messages",
        "ui_dependency_breaker_open",
    } <= read


def test_shared_http_metrics_are_read_per_service(dashboard: dict[str, Any]) -> None:
    """intake-api, admin-api and intake-ui expose the same http_* names: a panel that does not
    pick its service adds the UI's pages and the staff API's routes to intake-api's."""
    shared = {"http_requests_total", "http_request_duration_seconds_bucket"}
    for where, expr in queries(dashboard):
        if referenced_metrics(expr) & shared and not where.startswith("variable"):
            assert re.search(r'service=~"\(\.\*-\)\?(intake-api|intake-ui|admin-api)"', expr), where


def test_chart_ships_it_as_a_sidecar_configmap_only_when_enabled(
    helm: Path, tmp_path: Path
) -> None:
    def render(*sets: str) -> list[dict[str, Any]]:
        args = [helm, "template", "onboarding", CHART, "--namespace", "obs", *helm_args("values")]
        result = run([*args, *(a for s in sets for a in ("--set", s))])
        assert result.returncode == 0, result.stderr
        return [d for d in yaml.safe_load_all(result.stdout) if d]

    def dashboards(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            d for d in docs if d["kind"] == "ConfigMap" and "dashboard" in d["metadata"]["name"]
        ]

    assert dashboards(render()) == []
    docs = render(
        "monitoring.grafanaDashboard.enabled=true",
        "monitoring.grafanaDashboard.annotations.grafana_folder=Onboarding",
    )
    (configmap,) = dashboards(docs)
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["annotations"] == {"grafana_folder": "Onboarding"}
    assert configmap["metadata"]["namespace"] == "obs"
    assert json.loads(configmap["data"]["onboarding.json"]) == json.loads(DASHBOARD.read_text())
    manifest = tmp_path / "dashboard.yaml"
    manifest.write_text(yaml.safe_dump(configmap))
    result = run(["kubernetes-validate", "--strict", "--quiet", "-k", "1.33.0", manifest])
    assert result.returncode == 0, result.stdout + result.stderr
    lint = run(
        [
            helm,
            "lint",
            "--strict",
            CHART,
            *helm_args("values"),
            "--set",
            "monitoring.grafanaDashboard.enabled=true",
        ]
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
