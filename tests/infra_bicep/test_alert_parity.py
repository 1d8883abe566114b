"""Azure Managed Prometheus records and alerts the same way as the chart's PrometheusRule.

alerts.bicep writes the chart's rules a second time (Azure evaluates rule groups, not
PrometheusRule objects), and alerts.bicep is evaluated with <env>.bicepparam against the chart
rendered with values-<env>.yaml. Recording rules, which the dashboard and the error-budget policy
read, must be the chart's exactly: the same groups, names, expressions, labels and evaluation
interval. For the alerts, each recorded series the chart's alert reads is replaced by the
expression that records it, and the namespace matchers are dropped (an Azure alert rule group is
scoped to the environment's cluster); names, expressions, ``for``, labels and annotations (what
Azure Monitor's notification says: summary, description, runbook) must agree.
The module's metric alerts on the Service Bus queue, which the chart has no rule for, are checked
here too: each one links its runbook.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra.toolbox import CHART, ROOT, run

from .bicep_values import TemplateValues, Unsupported
from .templates import (
    BICEP_DIR,
    ENVIRONMENTS,
    MAIN,
    Template,
    environment_fallback,
    literal,
    load,
    parse,
)

pytestmark = pytest.mark.infra

ALERTS = BICEP_DIR / "modules" / "alerts.bicep"
# alerts.bicep's parameters that main.bicep passes straight from the parameter file.
FROM_PARAMETER_FILE = (
    "kubernetesNamespace",
    "availabilitySlo",
    "outboxMaxAgeMinutes",
    "notifyMinReplicas",
    "queueBacklogThreshold",
)
# And the one it reads from the environment (infra.yml sets it): compared at its fallback, the
# chart's default.
FROM_ENVIRONMENT = ("runbookUrl",)
AZURE_SEVERITY = {"page": 1, "ticket": 2}
# A group without an interval is evaluated at Prometheus's evaluation_interval (1m unless set);
# Azure's default, and its shortest, is one minute.
AZURE_INTERVAL = "PT1M"
AZURE_MAX_RULES_PER_GROUP = 20
RECORDED = re.compile(r"(onboarding:\w+:\w+)\{namespace=\"([^\"]+)\"\}")

Key = tuple[str, str | None]  # alert name, burn


def compact(expr: str) -> str:
    """Whitespace means nothing to the comparison (the chart's rules are multi-line YAML)."""
    return re.sub(r"\s+", "", expr)


def iso_duration(duration: str | None) -> str | None:
    """Prometheus ``for`` (2m, 1h, 1d) as the ISO 8601 duration Azure takes (PT2M, PT1H, P1D)."""
    if duration is None:
        return None
    match = re.fullmatch(r"(\d+)([smhd])", duration)
    assert match, f"unexpected duration {duration}"
    amount, unit = match.groups()
    return f"P{amount}D" if unit == "d" else f"PT{amount}{unit.upper()}"


def inlined(expr: str, records: dict[str, str], namespace: str) -> str:
    """``expr`` with every recorded series replaced by the expression that records it, then
    without its namespace matchers."""
    while match := RECORDED.search(expr):
        name, scope = match.groups()
        assert scope == namespace and name in records, match.group(0)
        expr = expr[: match.start()] + f"({records[name]})" + expr[match.end() :]
    scoped = f'namespace="{namespace}"'
    for matcher in ("{" + scoped + "}", scoped + ",", "," + scoped):
        expr = expr.replace(matcher, "")
    assert "namespace=" not in expr, expr
    return expr


def rendered(helm: Path, env: str) -> list[dict[str, Any]]:
    """The chart as ``env`` deploys it, with the PrometheusRule the AKS env files leave to
    alerts.bicep rendered too, to compare them."""
    namespace = f"onboarding-{env}"  # the namespace of infra/bicep/env/<env>.bicepparam
    values = CHART / f"values-{env}.yaml"
    result = run(
        [helm, "template", "onboarding", CHART, "-n", namespace, "-f", values,
         "--set", "monitoring.prometheusRule.enabled=true"]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def chart_groups(helm: Path, env: str) -> list[dict[str, Any]]:
    """The rule groups of the chart's PrometheusRule as ``env`` renders them."""
    (rule,) = [d for d in rendered(helm, env) if d["kind"] == "PrometheusRule"]
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def chart_records(helm: Path, env: str) -> dict[str, dict[str, Any]]:
    """The chart's groups that record, by name: interval (ISO 8601) and rules by record."""
    return {
        group["name"]: {
            "interval": iso_duration(group.get("interval")) or AZURE_INTERVAL,
            "rules": {
                r["record"]: {"expression": compact(r["expr"]), "labels": r.get("labels")}
                for r in group["rules"]
            },
        }
        for group in chart_groups(helm, env)
        if any("record" in r for r in group["rules"])
    }


def chart_alerts(helm: Path, env: str) -> dict[Key, dict[str, Any]]:
    """The chart's alerts as ``env`` renders them, inlined and unscoped."""
    namespace = f"onboarding-{env}"
    rules = [r for group in chart_groups(helm, env) for r in group["rules"]]
    records = {r["record"]: r["expr"] for r in rules if "record" in r}
    return {
        (r["alert"], r["labels"].get("burn")): {
            "expression": compact(inlined(r["expr"], records, namespace)),
            "for": iso_duration(r.get("for")),
            "labels": r["labels"],
            "annotations": r["annotations"],
        }
        for r in rules
        if "alert" in r
    }


def alerts_module(env: str, source: str | None = None) -> TemplateValues:
    """alerts.bicep (or ``source`` in its place) with the parameters ``env`` gives it."""
    declared = load(ALERTS)
    source = declared.source if source is None else source
    template = Template(ALERTS, source, parse(source), declared.params, [], [], [])
    params: dict[str, Any] = {p.name: f"<{p.name}>" for p in declared.params}
    parameter_file = BICEP_DIR / "env" / f"{env}.bicepparam"
    params.update({name: literal(parameter_file, name) for name in FROM_PARAMETER_FILE})
    params.update(
        {name: environment_fallback(parameter_file, name)[1] for name in FROM_ENVIRONMENT}
    )
    return TemplateValues(template, params)


def azure_rules(env: str, source: str | None = None) -> list[dict[str, Any]]:
    """The alert rules alerts.bicep (or ``source`` in its place) deploys for ``env``."""
    rules: list[dict[str, Any]] = alerts_module(env, source).resource("sloRules")["properties"][
        "rules"
    ]
    return rules


def azure_recording_groups(env: str, source: str | None = None) -> list[dict[str, Any]]:
    """The recording rule groups alerts.bicep (or ``source`` in its place) deploys for ``env``."""
    groups: list[dict[str, Any]] = alerts_module(env, source).resource("recordingRules")
    return groups


def bicep_records(env: str, source: str | None = None) -> dict[str, dict[str, Any]]:
    """The same, keyed and shaped like :func:`chart_records`."""
    found: dict[str, dict[str, Any]] = {}
    for group in azure_recording_groups(env, source):
        name = group["name"].removeprefix("prg-<nameStem>-")
        properties = group["properties"]
        rules: dict[str, Any] = {}
        for r in properties["rules"]:
            assert r["record"] not in rules, f"{r['record']} twice in {name}"
            assert r["enabled"] is True, r["record"]
            rules[r["record"]] = {"expression": compact(r["expression"]), "labels": r["labels"]}
        found[name] = {"interval": properties["interval"], "rules": rules}
    return found


def bicep_alerts(env: str, source: str | None = None) -> dict[Key, dict[str, Any]]:
    """The same, keyed and shaped like :func:`chart_alerts`."""
    found: dict[Key, dict[str, Any]] = {}
    for r in azure_rules(env, source):
        assert r["severity"] == AZURE_SEVERITY[r["labels"]["severity"]], r["alert"]
        key = (r["alert"], r["labels"].get("burn"))
        assert key not in found, f"{key} twice"
        found[key] = {
            "expression": compact(r["expression"]),
            "for": r.get("for"),
            "labels": r["labels"],
            "annotations": r["annotations"],
        }
    return found


def test_main_passes_the_parameter_file_values_to_alerts() -> None:
    main = MAIN.read_text()
    module = main[main.index("module alerts 'modules/alerts.bicep'") :]
    module = module[: module.index("\n}\n")]
    for name in FROM_PARAMETER_FILE + FROM_ENVIRONMENT:
        assert re.search(rf"(?m)^\s+{name}: {name}$", module), name


def test_every_rule_group_is_compared() -> None:
    """The comparisons below read these two resources: no rule group may escape them."""
    groups = [
        r.symbol
        for r in load(ALERTS).resources
        if r.type.startswith("Microsoft.AlertsManagement/prometheusRuleGroups@")
    ]
    assert sorted(groups) == ["recordingRules", "sloRules"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_azure_recording_rules_match_the_chart(helm: Path, env: str) -> None:
    """The dashboard's SLO panels and the error-budget policy read these series in Azure too."""
    chart, azure = chart_records(helm, env), bicep_records(env)
    assert list(azure) == list(chart), "not the same recording groups"
    for name, expected in chart.items():
        assert sorted(azure[name]["rules"]) == sorted(expected["rules"]), name
        for record, rule in expected["rules"].items():
            assert azure[name]["rules"][record] == rule, record
        assert azure[name]["interval"] == expected["interval"], name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_recording_groups_are_scoped_and_sized_as_azure_takes_them(env: str) -> None:
    alerts = alerts_module(env).resource("sloRules")["properties"]
    groups = [group["properties"] for group in azure_recording_groups(env)]
    for properties in [alerts, *groups]:
        assert properties["scopes"] == ["<prometheusWorkspaceId>", "<clusterId>"]
        assert properties["clusterName"] == alerts["clusterName"]
        assert properties["enabled"] is True
        assert len(properties["rules"]) <= AZURE_MAX_RULES_PER_GROUP


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_azure_alerts_match_the_chart(helm: Path, env: str) -> None:
    chart, azure = chart_alerts(helm, env), bicep_alerts(env)
    assert sorted(azure, key=str) == sorted(chart, key=str), "not the same alerts"
    for key, expected in chart.items():
        assert azure[key] == expected, key


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_azure_expressions_are_valid_promql(promtool: Path, tmp_path: Path, env: str) -> None:
    """No Bicep compiler here, and Azure checks PromQL only at deployment: promtool does now."""
    alerts = [{"alert": r["alert"], "expr": r["expression"]} for r in azure_rules(env)]
    groups = [{"name": "azure", "rules": alerts}]
    for group in azure_recording_groups(env):
        records = [
            {"record": r["record"], "expr": r["expression"], "labels": r["labels"]}
            for r in group["properties"]["rules"]
        ]
        groups.append({"name": group["name"], "rules": records})
    rules = tmp_path / "azure-rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}))
    result = run([promtool, "check", "rules", rules])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_comparison_sees_a_changed_threshold(helm: Path) -> None:
    """A bucket bound written "300" (the chart has "300.0"): the drift this test is for."""
    key = ("SubmissionFreshnessBurnRate", "fast")
    source = ALERTS.read_text()
    drifted = source.replace("'300.0'", "'300'")
    assert drifted != source
    assert bicep_alerts("prod", drifted)[key] != chart_alerts(helm, "prod")[key]


def test_the_comparison_sees_a_changed_recording_rule(helm: Path) -> None:
    """A budget over 28 days where the chart's period is 30."""
    group, record = "onboarding-slo-budget", "onboarding:intake_api_errors:ratio_period"
    source = ALERTS.read_text()
    drifted = source.replace("var sloPeriod = '30d'", "var sloPeriod = '28d'")
    assert drifted != source
    expected = chart_records(helm, "prod")[group]["rules"][record]
    assert bicep_records("prod", drifted)[group]["rules"][record] != expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_notify_min_replicas_is_the_fewest_workers_the_chart_runs(helm: Path, env: str) -> None:
    """NotifyDown is deployed where a worker always runs: the parameter file must say so where
    the chart does (the comparison above sees only whether it is 0)."""
    docs = rendered(helm, env)
    workers = [
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-notify")
    ]
    scalers = [  # KEDA's ScaledObject or an HPA: the Deployment then has no replicas of its own
        d["spec"]
        for d in docs
        if d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")
        and d["spec"]["scaleTargetRef"]["name"].endswith("-notify")
    ]
    if not workers:  # no worker on AKS (the Function consumes the queue)
        fewest = 0
    elif scalers:
        fewest = scalers[0].get("minReplicaCount", scalers[0].get("minReplicas"))
    else:
        fewest = workers[0]["spec"]["replicas"]
    parameter_file = BICEP_DIR / "env" / f"{env}.bicepparam"
    assert literal(parameter_file, "notifyMinReplicas") == fewest


def metric_alerts() -> list[str]:
    """The symbols of alerts.bicep's metric alerts."""
    return [
        r.symbol
        for r in load(ALERTS).resources
        if r.type.startswith("Microsoft.Insights/metricAlerts@")
    ]


def test_every_metric_alert_links_its_runbook() -> None:
    """Azure Monitor sends a metric alert's description: on-call's only way to its runbook."""
    params = {"runbookUrl": "https://runbooks.example/{alert}.md"}
    module = TemplateValues(load(ALERTS), {**alerts_module("prod").parameters, **params})
    assert sorted(metric_alerts()) == ["deadLetters", "queueBacklog"]
    for symbol in metric_alerts():
        description = module.resource(symbol)["properties"]["description"]
        link = re.fullmatch(r".* Runbook: https://runbooks\.example/(\w+)\.md", description)
        assert link, f"{symbol}: {description}"
        runbook = ROOT / "docs" / "runbooks" / f"{link.group(1)}.md"
        assert runbook.read_text().startswith(f"# {runbook.stem}\n"), runbook


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_backlog_alert_fires_on_active_messages_above_the_threshold_for_15_minutes(
    env: str,
) -> None:
    properties = alerts_module(env).resource("queueBacklog")["properties"]
    (criterion,) = properties["criteria"]["allOf"]
    assert properties["windowSize"] == "PT15M"
    assert properties["severity"] == AZURE_SEVERITY["page"]
    assert criterion["metricName"] == "ActiveMessages"
    assert criterion["dimensions"] == [
        {"name": "EntityName", "operator": "Include", "values": ["<queueName>"]}
    ]
    # The window's least count over the threshold: above it at every minute, not at one peak.
    assert (criterion["timeAggregation"], criterion["operator"]) == ("Minimum", "GreaterThan")
    threshold = literal(BICEP_DIR / "env" / f"{env}.bicepparam", "queueBacklogThreshold")
    assert criterion["threshold"] == threshold


def snippet(source: str) -> Template:
    return Template(ALERTS, source, parse(source), [], [], [], [])


def test_the_interpreter_reads_interpolation_indexes_and_loops() -> None:
    values = TemplateValues(
        snippet(
            """
var names = ['a', 'b']
var escaped = 'it\\'s ${base * 2} ${names[1]}'
var pairs = [for i in range(0, length(names) * 2): '${names[i / 2]}${names[i % 2]}']
var merged = [for n in names: union({ name: n }, { 'for': 'PT1M' })]
var chosen = base > 20 ? 'big ${names[0]}' : 'small'
var none = base <= 20 ? ['x'] : []
var once = union(names, ['b', 'c'])
var leaf = last(split('/a/b/c', '/'))
resource each 'T@1' = [for n in names: { name: n }]
"""
        ),
        {"base": 21},
    )
    assert values.variable("escaped") == "it's 42 b"
    assert values.variable("pairs") == ["aa", "ab", "ba", "bb"]
    assert values.variable("merged") == [{"name": "a", "for": "PT1M"}, {"name": "b", "for": "PT1M"}]
    assert (values.variable("chosen"), values.variable("none")) == ("big a", [])
    assert (values.variable("once"), values.variable("leaf")) == (["a", "b", "c"], "c")
    assert values.resource("each") == [{"name": "a"}, {"name": "b"}]
    with pytest.raises(Unsupported):
        TemplateValues(snippet("var x = toLower('A')"), {}).variable("x")
