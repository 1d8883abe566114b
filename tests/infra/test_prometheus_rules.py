"""The PrometheusRule of the chart (docs/slo.md): valid for promtool, every recording rule computes
what it should, every alert fires when it should and stays quiet otherwise, and each one has a
runbook in docs/runbooks/.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra.metric_catalogue import (
    SCRAPE_SERIES,
    exposed_metrics,
    recorded_metrics,
    referenced_metrics,
)
from infra.toolbox import CHART, ROOT, TEST_TAG, TOOLS, Rendering, run

from intake_api.metrics import ApiMetrics
from intake_notify.metrics import WorkerMetrics

pytestmark = pytest.mark.infra

NS = "onboarding-values-prod-rules"  # the namespace conftest renders prod's rules into
INTAKE = f'namespace="{NS}",service="onboarding-intake-api"'
SUBMIT = f'{INTAKE},route="/v1/submissions",method="POST"'
ALERTS = {
    "IntakeApiAvailabilityBurnRate",
    "IntakeApiLatencyBurnRate",
    "SubmissionFreshnessBurnRate",
    "OutboxStale",
    "NotifyNotSending",
    "NotifyNotReceiving",
    "NotifyDown",
    "NotifyDeadLetters",
}
# Runbooks of alerts.bicep's Azure Monitor metric alerts on the queue, which no chart rule has
# (tests/infra_bicep/test_alert_parity.py checks that each such alert links its own).
METRIC_ALERT_RUNBOOKS = {"NotifyQueueBacklog"}
EVERY_BURN = {"fast", "medium", "slow"}


@pytest.fixture(scope="module")
def rules(renderings: dict[str, Rendering]) -> dict[str, Any]:
    (rule,) = renderings["values-prod-rules"].of_kind("PrometheusRule")
    return {"groups": rule["spec"]["groups"]}


@pytest.fixture(scope="module")
def promtool(helm: Path) -> Path:
    """Installed next to helm by scripts/install-infra-tools.sh (the helm fixture ran it)."""
    binary = TOOLS / "promtool"
    if not binary.exists():
        pytest.fail(f"promtool missing from {TOOLS}: scripts/install-infra-tools.sh failed")
    return binary


def all_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for g in rules["groups"] for r in g["rules"]]


def alerts_of(rules: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for rule in all_rules(rules):
        if "alert" in rule:
            found.setdefault(rule["alert"], []).append(rule)
    return found


def expect(
    rules: dict[str, Any], alert: str, at: str, burns: Collection[str] | bool
) -> dict[str, Any]:
    """The alerts promtool must see at ``at``: the burn windows named, or all of them (True)."""
    instances = [
        r
        for r in alerts_of(rules)[alert]
        if burns is True or (burns and r["labels"].get("burn") in burns)
    ]
    expected = [
        {"exp_labels": {**r["labels"], "namespace": NS}, "exp_annotations": r["annotations"]}
        for r in instances
    ]
    return {"eval_time": at, "alertname": alert, "exp_alerts": expected}


def promtool_test(promtool: Path, tmp_path: Path, rules: dict[str, Any], tests: list[Any]) -> str:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def counter(series: str, per_minute: float, minutes: int) -> dict[str, str]:
    return {"series": series, "values": f"0+{per_minute}x{minutes}"}


def requests(ok: float, failed: float, minutes: int) -> list[dict[str, str]]:
    """``ok`` 201s and ``failed`` 503s a minute on POST /v1/submissions."""
    return [
        counter(f'http_requests_total{{{SUBMIT},status="201"}}', ok, minutes),
        counter(f'http_requests_total{{{SUBMIT},status="503"}}', failed, minutes),
    ]


def durations(fast: float, total: float, minutes: int) -> list[dict[str, str]]:
    """``total`` requests a minute, ``fast`` of them within 0.1 s, the rest over 0.5 s."""
    bucket = "http_request_duration_seconds_bucket"
    return [
        counter(f'{bucket}{{{SUBMIT},le="{le}"}}', n, minutes)
        for le, n in (("0.1", fast), ("0.5", fast), ("+Inf", total))
    ]


def notify(outcome: str, values: str) -> dict[str, str]:
    return {
        "series": f'notify_messages_total{{namespace="{NS}",outcome="{outcome}"}}',
        "values": values,
    }


def emails(on_time: float, total: float, minutes: int) -> list[dict[str, str]]:
    """``total`` emails a minute, ``on_time`` of them within 5 minutes of their submission."""
    bucket = f'notify_submission_to_email_seconds_bucket{{namespace="{NS}"'
    return [
        counter(f'{bucket},le="{le}"}}', n, minutes)
        for le, n in (("60.0", on_time), ("300.0", on_time), ("600.0", total), ("+Inf", total))
    ]


def oldest_age(values: str) -> dict[str, str]:
    return {"series": f"intake_outbox_oldest_age_seconds{{{INTAKE}}}", "values": values}


# -- structure ------------------------------------------------------------------------------------


def test_rules_pass_promtool_check(promtool: Path, rules: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    result = run([promtool, "check", "rules", tmp_path / "rules.yaml"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(alerts_of(rules)) == ALERTS


def test_every_alert_links_its_own_runbook(rules: dict[str, Any]) -> None:
    runbooks = ROOT / "docs" / "runbooks"
    for alert, instances in alerts_of(rules).items():
        for rule in instances:
            assert rule["labels"]["severity"] in {"page", "ticket"}, alert
            url = rule["annotations"]["runbook_url"]
            assert url.endswith(f"/docs/runbooks/{alert}.md"), url
        text = (runbooks / f"{alert}.md").read_text()
        assert text.startswith(f"# {alert}\n"), alert
        assert "../runbooks.md#" in text, f"{alert}.md should link its failure modes"
    written = {p.stem for p in runbooks.glob("*.md")}
    assert written == set(alerts_of(rules)) | METRIC_ALERT_RUNBOOKS, "runbook of no alert"


def test_the_metric_name_parser_finds_what_an_expression_reads() -> None:
    expr = (
        'sum by (route, le) (rate(http_x_bucket{a="b",c=~"d|e"}[5m])) / on (namespace) '
        'my:recorded{x="y"} offset 1h and bare_gauge > bool 1e-9 or vector(0)'
    )
    assert referenced_metrics(expr) == {"http_x_bucket", "my:recorded", "bare_gauge"}
    assert referenced_metrics("label_values(intake_outbox_backlog, namespace)") == {
        "intake_outbox_backlog"
    }


def bucket_bounds(metrics: Any, family: str) -> set[str]:
    """The ``le`` values a histogram is exposed with, as Prometheus will store them."""
    return {
        sample.labels["le"]
        for metric in metrics.registry.collect()
        for sample in metric.samples
        if sample.name == f"{family}_bucket"
    }


def test_slo_thresholds_are_bucket_bounds_as_the_services_expose_them(
    rules: dict[str, Any],
) -> None:
    """An ``le`` matcher that names no bucket ("300" where the client writes "300.0") selects
    nothing, and the SLI silently reads as NaN: compare with what the registries expose."""
    api, worker = ApiMetrics(), WorkerMetrics()
    api.duration.labels("POST", "/v1/submissions").observe(0.1)
    worker.submit_to_email.observe(1)
    read = {
        (name, le)
        for rule in all_rules(rules)
        for name, le in re.findall(r'(\w+_bucket)\{[^}]*le="([^"]+)"', rule["expr"])
    }
    assert ("notify_submission_to_email_seconds_bucket", "300.0") in read
    assert ("http_request_duration_seconds_bucket", "0.5") in read
    exposed = {
        "http_request_duration_seconds_bucket": bucket_bounds(api, "http_request_duration_seconds"),
        "notify_submission_to_email_seconds_bucket": bucket_bounds(
            worker, "notify_submission_to_email_seconds"
        ),
    }
    for name, le in read:
        assert le in exposed[name], f'{name}{{le="{le}"}} is not a bucket: {sorted(exposed[name])}'


def test_rules_read_only_metrics_the_services_expose(rules: dict[str, Any]) -> None:
    known = exposed_metrics() | recorded_metrics(rules["groups"]) | SCRAPE_SERIES
    for rule in all_rules(rules):
        unknown = referenced_metrics(rule["expr"]) - known
        assert not unknown, f"{rule.get('record') or rule.get('alert')} reads {unknown}"


def test_docs_name_only_rules_that_exist(rules: dict[str, Any]) -> None:
    slo = (ROOT / "docs" / "slo.md").read_text()
    # "…:ratio_rate<W>" stands for every alert window; 1h is one of them.
    names = {n.replace("<W>", "1h") for n in re.findall(r"onboarding:\w+:\w+(?:<W>)?", slo)}
    recorded = recorded_metrics(rules["groups"])
    assert names, "docs/slo.md names no recording rule"
    assert names <= recorded, names - recorded
    assert all(alert in slo for alert in ALERTS)


# -- recording rules ------------------------------------------------------------------------------


def steady_value(record: str) -> float:
    """What each recording rule gives after 25 h of the steady traffic of the test below."""
    p95 = 0.95 * 2000 / 1950 * 0.1  # in the first bucket (le 0.1 s), interpolated
    exact = {
        "onboarding:intake_api_requests:rate5m": 2000 / 60,
        "onboarding:intake_api_errors:rate5m": 1 / 60,
        "onboarding:intake_api_durations:rate5m": 2000 / 60,
        "onboarding:intake_api_slow:rate5m": 50 / 60,
        "onboarding:intake_api_request_duration_seconds:p95_rate5m": p95,
        "onboarding:submission_emails:rate5m": 200 / 60,
        "onboarding:submission_late:rate5m": 1 / 60,
        "onboarding:intake_api_availability:objective": 0.999,
        "onboarding:intake_api_latency:objective": 0.95,
        "onboarding:submission_freshness:objective": 0.99,
        # 1 - spent / budget: 0.0005 of 0.001, 0.025 of 0.05, 0.005 of 0.01.
        "onboarding:intake_api_availability:error_budget_remaining": 0.5,
        "onboarding:intake_api_latency:error_budget_remaining": 0.5,
        "onboarding:submission_freshness:error_budget_remaining": 0.5,
    }
    if record in exact:
        return exact[record]
    ratios = {"intake_api_errors": 0.0005, "intake_api_slow": 0.025, "submission_late": 0.005}
    windowed = re.fullmatch(r"onboarding:(\w+):ratio_(?:rate\w+|period)", record)
    assert windowed, f"no expected value for {record}: add it here"
    return ratios[windowed.group(1)]


def test_every_recording_rule_computes_its_sli(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    minutes = 25 * 60
    other = 'namespace="elsewhere",service="onboarding-intake-api",route="/v1/submissions"'
    series = [
        *requests(ok=1999, failed=1, minutes=minutes),
        *durations(fast=1950, total=2000, minutes=minutes),
        # Probes and other namespaces never count, however badly they fail.
        counter(f'http_requests_total{{{INTAKE},route="/readyz",status="503"}}', 500, minutes),
        counter(f'http_requests_total{{{other},status="503"}}', 500, minutes),
        *emails(on_time=199, total=200, minutes=minutes),
        # Another namespace's late emails never count either.
        counter(
            'notify_submission_to_email_seconds_bucket{namespace="elsewhere",le="+Inf"}',
            50,
            minutes,
        ),
    ]
    checks = []
    for record in sorted(recorded_metrics(rules["groups"])):
        value = steady_value(record)
        tolerance = 1e-9 + 1e-9 * abs(value)
        checks.append(
            {
                "expr": f'abs({record}{{namespace="{NS}"}} - {value!r}) < bool {tolerance!r}',
                "eval_time": f"{minutes}m",
                "exp_samples": [{"labels": f'{{namespace="{NS}"}}', "value": 1}],
            }
        )
    test = {"interval": "1m", "input_series": series, "promql_expr_test": checks}
    promtool_test(promtool, tmp_path, rules, [test])


# -- burn-rate alerts ------------------------------------------------------------------------------
# After 3 h of steady traffic every window holds the same ratio, so which burns fire depends on
# the ratio alone: over 14.4x, 6x and 3x the budget for fast, medium and slow.


def test_availability_burns_by_error_ratio(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    cases = {  # failed requests per 1000 (budget: 1 per 1000)
        2: set(),
        5: {"slow"},
        8: {"medium", "slow"},
        30: EVERY_BURN,
    }
    tests = [
        {
            "interval": "1m",
            "input_series": requests(ok=1000 - failed, failed=failed, minutes=180),
            "alert_rule_test": [expect(rules, "IntakeApiAvailabilityBurnRate", "180m", burns)],
        }
        for failed, burns in cases.items()
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def test_availability_ignores_client_errors_and_probes(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    quiet = {
        "interval": "1m",
        "input_series": [
            counter(f'http_requests_total{{{SUBMIT},status="201"}}', 100, 180),
            # 4xx are the client's fault; a failing /readyz is the probe's business.
            counter(f'http_requests_total{{{SUBMIT},status="422"}}', 30, 180),
            counter(f'http_requests_total{{{INTAKE},route="/readyz",status="503"}}', 30, 180),
        ],
        "alert_rule_test": [expect(rules, "IntakeApiAvailabilityBurnRate", "180m", False)],
    }
    promtool_test(promtool, tmp_path, rules, [quiet])


def test_latency_burns_by_share_of_slow_requests(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    cases = {  # slow requests per 100 (budget: 5 per 100)
        10: set(),
        20: {"slow"},
        40: {"medium", "slow"},
        80: EVERY_BURN,
    }
    tests = [
        {
            "interval": "1m",
            "input_series": durations(fast=100 - slow, total=100, minutes=180),
            "alert_rule_test": [expect(rules, "IntakeApiLatencyBurnRate", "180m", burns)],
        }
        for slow, burns in cases.items()
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def test_freshness_burns_by_share_of_late_emails(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    cases = {  # emails sent more than 5 minutes after their submission, per 100 (budget: 1)
        2: set(),
        5: {"slow"},
        8: {"medium", "slow"},
        30: EVERY_BURN,
    }
    tests = [
        {
            "interval": "1m",
            "input_series": emails(on_time=100 - late, total=100, minutes=180),
            "alert_rule_test": [expect(rules, "SubmissionFreshnessBurnRate", "180m", burns)],
        }
        for late, burns in cases.items()
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def test_freshness_is_silent_while_no_email_is_sent(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    """No email, no observation: the SLI cannot burn during a total outage (NotifyNotSending
    and OutboxStale name it), and an idle night is not an outage."""
    idle = {
        "interval": "1m",
        "input_series": [*emails(on_time=0, total=0, minutes=180), notify("retried", "0+3x180")],
        "alert_rule_test": [expect(rules, "SubmissionFreshnessBurnRate", "180m", False)],
    }
    promtool_test(promtool, tmp_path, rules, [idle])


def test_one_bad_request_at_low_traffic_pages_nothing(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    """One 5xx among 60 requests an hour is 1.6 %, over 14.4 times a 99.9 % budget in both of
    the fast windows: the fast burn also needs more than minEvents requests in its hour."""
    quiet = {
        "interval": "1m",
        "input_series": [
            counter(f'http_requests_total{{{SUBMIT},status="201"}}', 1, 180),
            {"series": f'http_requests_total{{{SUBMIT},status="503"}}', "values": "0x169 1x10"},
        ],
        "alert_rule_test": [
            expect(rules, "IntakeApiAvailabilityBurnRate", f"{at}m", False) for at in (173, 176)
        ],
    }
    promtool_test(promtool, tmp_path, rules, [quiet])


def test_at_low_traffic_only_the_fast_burn_waits_for_enough_events(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    """30 events an hour, every one bad: under the fast burn's minimum, yet the medium and slow
    burns still see a real outage at that traffic."""
    per_minute = 0.5
    cases = {
        "IntakeApiAvailabilityBurnRate": requests(ok=0, failed=per_minute, minutes=180),
        "IntakeApiLatencyBurnRate": durations(fast=0, total=per_minute, minutes=180),
        "SubmissionFreshnessBurnRate": emails(on_time=0, total=per_minute, minutes=180),
    }
    tests = [
        {
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [expect(rules, alert, "180m", {"medium", "slow"})],
        }
        for alert, series in cases.items()
    ]
    promtool_test(promtool, tmp_path, rules, tests)


# -- the asynchronous path --------------------------------------------------------------------------


def minutes(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([mh])", duration)
    assert match, duration
    amount, unit = match.groups()
    return int(amount) * (60 if unit == "h" else 1)


def test_outbox_alert_fires_when_an_event_stays_unpublished(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    (rule,) = alerts_of(rules)["OutboxStale"]
    threshold = re.search(r">\s*(\d+)\s*$", rule["expr"])
    assert threshold, rule["expr"]
    max_age = int(threshold.group(1))
    over_from = max_age // 60 + 1  # one event never published ages a minute a minute
    fires_at = over_from + minutes(rule["for"])

    def case(values: str, at: int, firing: bool) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": [oldest_age(values)],
            "alert_rule_test": [expect(rules, "OutboxStale", f"{at}m", firing)],
        }

    stuck = f"0+60x{fires_at + 10}"
    recovered = f"0+60x{over_from + 3} 0x{fires_at + 10}"  # the relay caught up in time
    busy = "0 45 90 30 0 " * (fires_at // 5 + 3)  # many events, each published within minutes
    tests = [
        case(stuck, fires_at - 1, False),
        case(stuck, fires_at + 1, True),
        case(recovered, fires_at + 5, False),
        case(busy, fires_at + 5, False),
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def test_not_sending_alert_fires_while_the_notifier_only_retries(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    def case(retried: str, sent: str, firing: bool) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": [notify("retried", retried), notify("sent", sent)],
            "alert_rule_test": [expect(rules, "NotifyNotSending", "30m", firing)],
        }

    tests = [
        case("0+3x40", "7x40", True),  # the mail service is down: every attempt fails
        case("0+1x40", "0+20x40", False),  # a few retries among many emails
        case("0x40", "7x40", False),  # nothing to send
        case("0+3x10 30x30", "7x10 7+5x30", False),  # recovered 20 minutes ago
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def bus_errors(values: str) -> dict[str, str]:
    return {
        "series": f'notify_bus_errors_total{{namespace="{NS}",pod="notify-a"}}',
        "values": values,
    }


def test_not_receiving_alert_fires_while_calls_to_the_bus_keep_failing(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    def case(errors: str, sent: str, at: int, firing: bool) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": [bus_errors(errors), notify("sent", sent)],
            "alert_rule_test": [expect(rules, "NotifyNotReceiving", f"{at}m", firing)],
        }

    one_failed_call = "0x10 1x30"  # a blip in a quiet hour, never repeated
    tests = [
        case("0+2x40", "7x40", 30, True),  # no receive works (role, network): nothing is sent
        case("0+2x40", "7x40", 4, False),  # not yet for long enough
        case("0+2x40", "0+5x40", 30, False),  # some settles fail, emails still go out
        *(case(one_failed_call, "7x40", at, False) for at in range(10, 18)),
        case("0+2x10 20x30", "7x10 7+5x30", 30, False),  # recovered 20 minutes ago
        case("0x40", "7x40", 30, False),  # an idle queue
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def up(
    values: str, pod: str = "notify-a", namespace: str = NS, job: str = "onboarding-notify"
) -> dict[str, str]:
    return {
        "series": f'up{{namespace="{namespace}",job="{job}",pod="{pod}"}}',
        "values": values,
    }


def test_notify_down_alert_fires_while_no_worker_answers_its_scrapes(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    def case(series: list[dict[str, str]], at: int, firing: bool) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [expect(rules, "NotifyDown", f"{at}m", firing)],
        }

    tests = [
        case([up("1x30")], 20, False),
        case([up("0x30")], 20, True),  # crash loop: the target is there, its scrapes fail
        case([up("0x30", pod="notify-a"), up("1x30", pod="notify-b")], 20, False),  # one is up
        case([up("0x3 1x27")], 20, False),  # a restart, back within minutes
        case([up("1x10 _x30")], 25, True),  # the pod is gone and no other took its place
        # No notify target in this namespace at all: another release's or service's does not count.
        case(
            [up("1x30", namespace="elsewhere"), up("1x30", job="onboarding-intake-api")], 20, True
        ),
    ]
    promtool_test(promtool, tmp_path, rules, tests)


def rendered_alerts(helm: Path, *args: str) -> set[str]:
    result = run(
        [helm, "template", "onboarding", CHART, "-n", "onboarding", "--set", TEST_TAG,
         "--set", "monitoring.prometheusRule.enabled=true", *args]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (rule,) = [d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "PrometheusRule"]
    return set(alerts_of({"groups": rule["spec"]["groups"]}))


@pytest.mark.parametrize(
    ("args", "rendered"),
    [
        ((), True),  # one replica
        (("-f", f"{CHART}/values-dev.yaml"), False),  # KEDA scales an empty queue's worker to 0
        (
            ("-f", f"{CHART}/values-dev.yaml", "--set", "services.notify.keda.minReplicaCount=1"),
            True,
        ),
        (("-f", f"{CHART}/values-staging.yaml"), True),
        (("-f", f"{CHART}/values-prod.yaml"), True),
        (("--set", "services.notify.replicas=0"), False),
        (("--set", "services.notify.enabled=false"), False),
    ],
)
def test_notify_down_is_rendered_only_where_a_worker_always_runs(
    helm: Path, args: tuple[str, ...], rendered: bool
) -> None:
    alerts = rendered_alerts(helm, *args)
    assert ("NotifyDown" in alerts) is rendered
    assert "NotifyNotReceiving" in alerts  # no worker, no series: it stays quiet by itself


def test_dead_letter_alert(promtool: Path, rules: dict[str, Any], tmp_path: Path) -> None:
    def case(values: str, at: str, firing: bool, pod: str = "notify-a") -> dict[str, Any]:
        dead = f'notify_messages_total{{namespace="{NS}",pod="{pod}",outcome="dead_lettered"}}'
        return {
            "interval": "1m",
            "input_series": [
                {"series": dead, "values": values},
                notify("sent", "0+10x60"),
            ],
            "alert_rule_test": [expect(rules, "NotifyDeadLetters", at, firing)],
        }

    tests = [
        case("0 0 0 0 0 1 1 1 1 1", "8m", True),
        case("0x10", "8m", False),
        # A worker's first dead letter creates its series at 1: no increase() sees it.
        case("_x25 1x20", "30m", True, pod="notify-b"),
        # An old dead letter, already dealt with, does not keep the alert on.
        case("1x60", "40m", False),
    ]
    promtool_test(promtool, tmp_path, rules, tests)


@pytest.mark.parametrize(
    "bad",
    [
        "monitoring.prometheusRule.runbookUrl=https://example.com/runbooks.md",
        "monitoring.prometheusRule.slo.freshness.objective=1",
        "monitoring.prometheusRule.slo.period=a month",
        "monitoring.prometheusRule.slo.freshness.thresholdSeconds=5m",
        "monitoring.prometheusRule.outbox.maxAgeSeconds=0",
        "monitoring.grafanaDashboard.folder=Onboarding",
    ],
)
def test_schema_refuses_bad_monitoring_values(helm: Path, bad: str) -> None:
    result = run([helm, "lint", "--strict", CHART, "--set", bad])
    assert result.returncode != 0, f"{bad} was accepted"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout
