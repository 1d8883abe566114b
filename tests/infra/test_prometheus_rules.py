"""The PrometheusRule of the chart: valid for promtool, and each alert fires when it should."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from infra.toolbox import TOOLS, Rendering, run

pytestmark = pytest.mark.infra

API = 'service="onboarding-intake-api",route="/v1/submissions"'


@pytest.fixture(scope="module")
def rules(renderings: dict[str, Rendering]) -> dict[str, Any]:
    (rule,) = renderings["values-prod"].of_kind("PrometheusRule")
    return {"groups": rule["spec"]["groups"]}


@pytest.fixture(scope="module")
def promtool(helm: Path) -> Path:
    """Installed next to helm by scripts/install-infra-tools.sh (the helm fixture ran it)."""
    binary = TOOLS / "promtool"
    if not binary.exists():
        pytest.fail(f"promtool missing from {TOOLS}: scripts/install-infra-tools.sh failed")
    return binary


def alerts_of(rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}


def expect(rules: dict[str, Any], alert: str, at: str, firing: bool) -> dict[str, Any]:
    rule = alerts_of(rules)[alert]
    expected = [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]
    return {"eval_time": at, "alertname": alert, "exp_alerts": expected if firing else []}


def promtool_test(promtool: Path, tmp_path: Path, rules: dict[str, Any], tests: list[Any]) -> str:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_rules_pass_promtool_check(promtool: Path, rules: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    result = run([promtool, "check", "rules", tmp_path / "rules.yaml"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(alerts_of(rules)) >= {
        "IntakeApiAvailabilityBurnRateFast",
        "IntakeApiLatencyBurnRateFast",
        "OutboxBacklogNotDraining",
        "NotifyDeadLetters",
    }


def test_availability_burn_fires_on_errors_only(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    failing = {
        "interval": "1m",
        "input_series": [
            {"series": f'http_requests_total{{{API},status="201"}}', "values": "0+90x90"},
            {"series": f'http_requests_total{{{API},status="503"}}', "values": "0+10x90"},
        ],
        "alert_rule_test": [expect(rules, "IntakeApiAvailabilityBurnRateFast", "70m", True)],
    }
    healthy = {
        "interval": "1m",
        "input_series": [
            {"series": f'http_requests_total{{{API},status="201"}}', "values": "0+100x90"},
            # 4xx are the client's fault, not an availability failure.
            {"series": f'http_requests_total{{{API},status="422"}}', "values": "0+30x90"},
        ],
        "alert_rule_test": [expect(rules, "IntakeApiAvailabilityBurnRateFast", "70m", False)],
    }
    promtool_test(promtool, tmp_path, rules, [failing, healthy])


def test_latency_burn_fires_when_requests_are_slow(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    bucket = "http_request_duration_seconds_bucket"

    def case(fast_per_minute: int, firing: bool) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": [
                {"series": f'{bucket}{{{API},le="0.5"}}', "values": f"0+{fast_per_minute}x90"},
                {"series": f'{bucket}{{{API},le="+Inf"}}', "values": "0+100x90"},
            ],
            "alert_rule_test": [expect(rules, "IntakeApiLatencyBurnRateFast", "70m", firing)],
        }

    promtool_test(promtool, tmp_path, rules, [case(50, True), case(100, False)])


def test_outbox_alert_fires_only_when_the_backlog_never_drains(
    promtool: Path, rules: dict[str, Any], tmp_path: Path
) -> None:
    stuck = {
        "interval": "1m",
        "input_series": [{"series": "intake_outbox_backlog", "values": "5x40"}],
        "alert_rule_test": [expect(rules, "OutboxBacklogNotDraining", "30m", True)],
    }
    draining = {
        "interval": "1m",
        "input_series": [{"series": "intake_outbox_backlog", "values": "5 5 0 " * 13}],
        "alert_rule_test": [expect(rules, "OutboxBacklogNotDraining", "30m", False)],
    }
    promtool_test(promtool, tmp_path, rules, [stuck, draining])


def test_dead_letter_alert(promtool: Path, rules: dict[str, Any], tmp_path: Path) -> None:
    series = 'notify_messages_total{outcome="%s"}'
    dead = {
        "interval": "1m",
        "input_series": [
            {"series": series % "dead_lettered", "values": "0 0 0 0 0 1 1 1 1 1"},
            {"series": series % "sent", "values": "0+10x10"},
        ],
        "alert_rule_test": [expect(rules, "NotifyDeadLetters", "8m", True)],
    }
    clean = {
        "interval": "1m",
        "input_series": [
            {"series": series % "dead_lettered", "values": "0x10"},
            {"series": series % "sent", "values": "0+10x10"},
        ],
        "alert_rule_test": [expect(rules, "NotifyDeadLetters", "8m", False)],
    }
    promtool_test(promtool, tmp_path, rules, [dead, clean])
