"""The deploy's SLO gate (.github/scripts/slo_check.py): what its query reads, against what the
Azure Monitor exporter really writes for intake-api, and how it judges the rows it gets back."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.monitor.opentelemetry.exporter._utils import _get_cloud_role
from azure.monitor.opentelemetry.exporter.export.trace._exporter import _convert_span_to_envelope
from fastapi.testclient import TestClient
from infra_bicep.templates import BICEP_DIR, literal
from infra_workflows.helpers import fake_cli, run_script
from infra_workflows.policy import ROOT, WORKFLOWS
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from intake_api.app import create_app
from intake_api.settings import IntakeApiSettings
from intake_core.telemetry import cloud_role_name, tracer_provider
from support import VALID_BODY

pytestmark = pytest.mark.infra

CHART = ROOT / "charts" / "onboarding"
# az prints every value as a string; the KQL's summarize gives one row.
FAKE_AZ = """
import json, os, sys
log = os.environ["FAKE_AZ_LOG"]
with open(log, "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
answers = json.loads(os.environ["FAKE_AZ_ANSWERS"])
with open(log) as calls:
    asked = sum(1 for _ in calls)
print(json.dumps(answers[min(asked, len(answers)) - 1]))
"""


def chart_values(tmp_path: Path, env: str) -> list[str]:
    """The --values arguments deploy-env.yml passes: the chart's values and the environment's,
    as JSON (the workflow converts them with yq)."""
    arguments = []
    for name in ("values.yaml", f"values-{env}.yaml"):
        converted = tmp_path / f"{name}.json"
        converted.write_text(json.dumps(yaml.safe_load((CHART / name).read_text())))
        arguments += ["--values", str(converted)]
    return arguments


def summary(total: int, failed: int = 0, slow: int = 0, p95: float = 120.0) -> list[dict[str, str]]:
    row = {"total": str(total), "failed": str(failed), "slow": str(slow), "p95": str(p95)}
    return [{"TableName": "PrimaryResult", **row}]


def judge_rows(tmp_path: Path, rows: list[dict[str, Any]], env: str = "prod") -> Any:
    saved = tmp_path / "rows.json"
    saved.write_text(json.dumps(rows))
    return run_script("slo_check.py", *chart_values(tmp_path, env), "--result-file", str(saved))


def failures(stdout: str) -> list[str]:
    return [line[5:] for line in stdout.splitlines() if line.startswith("FAIL ")]


def run_gate(
    tmp_path: Path, answers: list[list[dict[str, str]]], *arguments: str, az: str = FAKE_AZ
) -> tuple[Any, list[str]]:
    """slo_check.py against a workspace, `az` faked: returns the run and the KQL of each query."""
    fake_cli(tmp_path, "az", az)
    log = tmp_path / "az-calls.jsonl"
    env = {
        **os.environ,
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZ_LOG": str(log),
        "FAKE_AZ_ANSWERS": json.dumps(answers),
    }
    result = run_script(
        "slo_check.py", "--workspace-id", "00000000-0000-0000-0000-000000000000",
        *chart_values(tmp_path, "prod"), "--ingestion-minutes", "0", "--poll-seconds", "0.05",
        *arguments, env=env,
    )  # fmt: skip
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    queries = [call[call.index("--analytics-query") + 1] for call in calls]
    return result, queries


def an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_query_filters_on_the_role_name_the_exporter_gives_intake_api(tmp_path: Path) -> None:
    exported = _get_cloud_role(tracer_provider("intake-api").resource)
    assert exported == cloud_role_name("intake-api") == "onboarding.intake-api"

    result, queries = run_gate(tmp_path, [summary(40)], "--since", an_hour_ago())

    assert result.returncode == 0, result.stdout + result.stderr
    assert f'| where AppRoleName == "{exported}"\n' in queries[0]
    assert "admin-api" not in queries[0] and "intake-ui" not in queries[0]


def test_the_exporter_writes_what_the_query_reads_for_intake_api(
    tmp_path: Path, tracer_provider: TracerProvider
) -> None:
    """Real intake-api requests through the real exporter's conversion: Url carries the /v1/
    path the query keeps, ResultCode the status it counts 5xx from; Success is false for a 4xx,
    which is why the query never reads it; probes are not traced at all."""
    spans = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(IntakeApiSettings(INTAKE_DATA_DIR=tmp_path, relay_enabled=False))

    @app.get("/v1/broken")
    async def broken() -> None:
        raise RuntimeError("a bug in the new release")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/v1/submissions", json=VALID_BODY).status_code == 201
        assert client.post("/v1/submissions", json={}).status_code == 422
        assert client.get("/v1/broken").status_code == 500
        assert client.get("/healthz").status_code == 200
    requests = []
    for span in spans.get_finished_spans():
        if span.kind == SpanKind.SERVER:
            data = _convert_span_to_envelope(span).data.base_data
            requests.append((data.url, data.response_code, data.success))
    spans.shutdown()

    assert requests == [
        ("http://testserver:80/v1/submissions", "201", True),
        ("http://testserver:80/v1/submissions", "422", False),
        ("http://testserver:80/v1/broken", "500", False),
    ]
    query = run_gate(tmp_path, [summary(40)], "--since", an_hour_ago())[1][0]
    assert '| where tostring(parse_url(Url).Path) startswith "/v1/"\n' in query
    assert "failed = sumif(ItemCount, toint(ResultCode) >= 500)" in query
    assert "Success" not in query


def test_the_window_opens_at_the_rollout_and_lasts_the_soak(tmp_path: Path) -> None:
    result, queries = run_gate(
        tmp_path, [summary(40)], "--since", "2025-03-04T10:20:30Z", "--soak-minutes", "15"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    window = re.search(r"TimeGenerated >= datetime\((\S+)\) and TimeGenerated < datetime\((\S+)\)",
                       queries[0])  # fmt: skip
    assert window is not None and window.group(1) == "2025-03-04T10:20:30Z"
    assert "ago(" not in queries[0]


def test_the_window_lasts_until_the_check_starts_when_the_smoke_test_took_longer(
    tmp_path: Path,
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=30)
    before = datetime.now(UTC).replace(microsecond=0)
    result, queries = run_gate(
        tmp_path, [summary(40)], "--since", since.isoformat(), "--soak-minutes", "5"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    end = re.search(r"TimeGenerated < datetime\((\S+)\)", queries[0])
    assert end is not None and datetime.fromisoformat(end.group(1)) >= before


def test_the_check_waits_for_the_smoke_test_requests_to_be_ingested(tmp_path: Path) -> None:
    answers = [summary(0), summary(1), summary(2)]

    result, queries = run_gate(tmp_path, answers, "--since", an_hour_ago())

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(queries) == 3
    assert "1 requests ingested so far" in result.stdout


def test_no_request_at_all_is_telemetry_not_arriving_and_fails(tmp_path: Path) -> None:
    result, queries = run_gate(
        tmp_path, [summary(0)], "--since", an_hour_ago(), "--timeout-minutes", "0"
    )

    assert result.returncode == 1
    assert len(queries) == 1
    [failure] = failures(result.stdout)
    assert failure.startswith("no onboarding.intake-api /v1/ requests in the window")


def test_a_failing_query_fails_the_check(tmp_path: Path) -> None:
    refused = "import sys\nprint('AuthorizationFailed', file=sys.stderr)\nsys.exit(1)"
    result, _ = run_gate(tmp_path, [], "--since", an_hour_ago(), az=refused)
    assert result.returncode == 1
    assert failures(result.stdout) == ["az monitor log-analytics query failed: AuthorizationFailed"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_availability_is_judged_against_the_environments_objective(
    tmp_path: Path, env: str
) -> None:
    """The objective is the environment's, as its Bicep alerts have it (availabilitySlo)."""
    objective = float(literal(BICEP_DIR / "env" / f"{env}.bicepparam", "availabilitySlo"))
    allowed = round(100_000 * (1 - objective))

    at_the_objective = judge_rows(tmp_path, summary(100_000, failed=allowed), env)
    below_it = judge_rows(tmp_path, summary(100_000, failed=allowed + 1), env)

    assert at_the_objective.returncode == 0, at_the_objective.stdout
    assert below_it.returncode == 1
    assert failures(below_it.stdout) == [
        f"availability {1 - (allowed + 1) / 100_000:.4%} < {objective:.4%}"
    ]


def test_dev_tolerates_what_prod_does_not(tmp_path: Path) -> None:
    rows = summary(10_000, failed=50)  # 99.5 %
    assert judge_rows(tmp_path, rows, "dev").returncode == 0
    assert judge_rows(tmp_path, rows, "prod").returncode == 1


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (summary(100, slow=5, p95=480), []),
        (summary(100, slow=6, p95=530), ["within 500 ms 94.00% < 95.00%"]),
        (summary(2, slow=1, p95=900), []),  # the smoke test's two: one slow is not a p95
    ],
)
def test_latency_is_the_share_within_the_threshold(
    tmp_path: Path, rows: list[dict[str, str]], expected: list[str]
) -> None:
    result = judge_rows(tmp_path, rows)
    assert result.returncode == (1 if expected else 0), result.stdout
    assert failures(result.stdout) == expected


def test_few_requests_say_why_latency_was_not_judged(tmp_path: Path) -> None:
    result = judge_rows(tmp_path, summary(2, slow=1, p95=900))
    assert "latency not judged: 2 requests (< 20" in result.stdout


def test_a_5xx_among_few_requests_fails(tmp_path: Path) -> None:
    result = judge_rows(tmp_path, summary(2, failed=1), "dev")
    assert failures(result.stdout) == ["availability 50.0000% < 99.0000%"]


def test_without_a_workspace_it_is_a_notice_not_a_failure() -> None:
    result = run_script("slo_check.py")
    assert result.returncode == 0
    assert "::notice::SLO check skipped" in result.stdout


def test_a_rollout_time_without_a_time_zone_is_refused(tmp_path: Path) -> None:
    result = run_script(
        "slo_check.py", "--workspace-id", "w", *chart_values(tmp_path, "dev"),
        "--since", "2025-03-04T10:20:30",
    )  # fmt: skip
    assert result.returncode == 2
    assert "no time zone" in result.stderr


def test_the_deploy_passes_the_rollout_time_and_the_environments_values() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "deploy-env.yml").read_text())
    steps = {step.get("id", step["name"]): step for step in workflow["jobs"]["deploy"]["steps"]}
    gate = next(step for step in steps.values() if "slo_check.py" in step.get("run", ""))

    assert 'echo "rolled_out_at=' in steps["upgrade"]["run"]
    assert gate["env"]["ROLLED_OUT_AT"] == "${{ steps.upgrade.outputs.rolled_out_at }}"
    assert '--since "$ROLLED_OUT_AT"' in gate["run"]
    assert "--values values.json --values values-env.json" in gate["run"]
    verify = next(step for step in steps.values() if "image_digests.py" in step.get("run", ""))
    assert '"charts/onboarding/values-${TARGET}.yaml" > values-env.json' in verify["run"]
