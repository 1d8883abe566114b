"""The Grafana dashboard (docs/slo.md): valid, complete, reading only metrics that exist, and
shipped by the chart as the sidecar's ConfigMap when asked to.
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


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            yield (
                f"variable {variable['name']}",
                query["query"] if isinstance(query, dict) else query,
            )


def test_deploy_monitoring_is_the_same_file() -> None:
    shipped = ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
    assert shipped.resolve() == DASHBOARD.resolve(), "one dashboard, linked, never copied"


def test_dashboard_is_valid_grafana_json(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "namespace"} <= variables
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']} queries nothing"
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            # Scoped to one release, like the recording rules.
            assert 'namespace="$namespace"' in target["expr"], panel["title"]


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
        "admin_api_requests_total",
        "ui_dependency_breaker_open",
    } <= read


def test_shared_http_metrics_are_read_per_service(dashboard: dict[str, Any]) -> None:
    """intake-api and intake-ui expose the same http_* names: a panel that does not pick its
    service adds the UI's pages to intake-api's routes."""
    shared = {"http_requests_total", "http_request_duration_seconds_bucket"}
    for where, expr in queries(dashboard):
        if referenced_metrics(expr) & shared and not where.startswith("variable"):
            assert re.search(r'service=~"\(\.\*-\)\?intake-(api|ui)"', expr), where


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
