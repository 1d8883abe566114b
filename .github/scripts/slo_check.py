#!/usr/bin/env python3
"""Post-deployment SLO gate: intake-api's requests since the rollout, from Application Insights.

It judges the release by intake-api's objectives (docs/slo.md), measured as the alerts measure
them: its own routes (/v1/...), availability as the share of them not answered 5xx (a 4xx is the
client's; Application Insights marks it Success=false, so the query reads ResultCode), latency as
the share answered within the threshold. The objectives are the environment's, read from the
chart values the deployment used (monitoring.prometheusRule.slo, kept equal to the Bicep alerts').

The window opens at --since, when the rollout finished, and closes --soak-minutes later, or when
this check starts if that is later: the smoke test's requests (a submission and its status
lookup) always fall in it. Rows reach the workspace minutes after their request, so the check
first asks --ingestion-minutes after the window closes, then every --poll-seconds until the smoke
test's requests are there or --timeout-minutes have passed since it closed. A window that still
holds no request means intake-api's telemetry is not arriving: the release cannot be judged, and
the check fails (docs/slo.md, "The deploy gate").

Latency is judged once one slow request alone would not break its objective (20 requests at
95 %): below that a p95 is just the slowest request. Without a workspace id it passes at once
with a notice.

    python3 .github/scripts/slo_check.py --workspace-id "$LOG_ANALYTICS_WORKSPACE_ID" \
        --values values.json --values values-env.json --since 2025-01-31T12:00:00Z --soak-minutes 5
    python3 .github/scripts/slo_check.py --values values.json --result-file rows.json  # saved rows
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# intake_core.telemetry.cloud_role_name("intake-api"): the exporter names the role
# "<service.namespace>.<service.name>". CI runs this script without the workspace installed, so
# tests/infra_workflows holds this equal to what the exporter computes.
ROLE_NAME = "onboarding.intake-api"
SMOKE_TEST_REQUESTS = 2  # POST /v1/submissions and POST /v1/status-lookup

QUERY = """\
AppRequests
| where TimeGenerated >= datetime({start}) and TimeGenerated < datetime({end})
| where AppRoleName == "{role}"
| where tostring(parse_url(Url).Path) startswith "/v1/"
| summarize total = sum(ItemCount),
            failed = sumif(ItemCount, toint(ResultCode) >= 500),
            slow = sumif(ItemCount, DurationMs > {threshold_ms:g}),
            p95 = percentilew(DurationMs, ItemCount, 95)
"""


@dataclass(frozen=True)
class Objectives:
    availability: float  # share of requests not answered 5xx
    latency: float  # share of requests answered within latency_ms
    latency_ms: float

    @classmethod
    def from_values(cls, paths: list[Path]) -> Objectives:
        """From chart values as JSON (yq -o=json), later files overriding earlier ones."""
        slo: dict[str, Any] = {}
        for path in paths:
            values = json.loads(path.read_text())
            found = values.get("monitoring", {}).get("prometheusRule", {}).get("slo", {})
            for name in ("availability", "latency"):
                slo[name] = {**slo.get(name, {}), **found.get(name, {})}
        try:
            return cls(
                availability=float(slo["availability"]["objective"]),
                latency=float(slo["latency"]["objective"]),
                latency_ms=float(slo["latency"]["thresholdSeconds"]) * 1000,
            )
        except KeyError as missing:
            raise SystemExit(f"no monitoring.prometheusRule.slo {missing} in {paths}") from None

    @property
    def latency_min_requests(self) -> int:
        """The fewest requests among which one slow request stays within the objective."""
        return math.ceil(round(1 / (1 - self.latency), 6))


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def query(self, objectives: Objectives) -> str:
        return QUERY.format(
            start=_kql_time(self.start),
            end=_kql_time(self.end),
            role=ROLE_NAME,
            threshold_ms=objectives.latency_ms,
        )


@dataclass(frozen=True)
class Requests:
    total: int
    failed: int
    slow: int
    p95_ms: float | None

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> Requests:
        """The query's one summary row; `az` writes numbers as strings, and nulls when empty."""
        row = rows[0] if rows else {}

        def number(name: str) -> float:
            value = row.get(name)
            return 0.0 if value in (None, "") else float(value)

        p95 = row.get("p95")
        return cls(
            total=int(number("total")),
            failed=int(number("failed")),
            slow=int(number("slow")),
            p95_ms=None if p95 in (None, "", "NaN") else float(p95),
        )


def _kql_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone: write it in UTC with a Z")
    return moment.astimezone(UTC)


def judge(requests: Requests, objectives: Objectives) -> tuple[list[str], list[str]]:
    """The breaches, and notes on what was measured."""
    if requests.total == 0:
        return [
            f"no {ROLE_NAME} /v1/ requests in the window, not even the smoke test's: its "
            "telemetry is not reaching Application Insights (OTEL_EXPORTER, the connection "
            "string, Monitoring Metrics Publisher), so the release cannot be judged"
        ], []
    found: list[str] = []
    notes: list[str] = []
    availability = 1 - requests.failed / requests.total
    notes.append(f"availability {availability:.4%} ({requests.failed} of {requests.total} 5xx)")
    if availability < objectives.availability:
        found.append(f"availability {availability:.4%} < {objectives.availability:.4%}")
    within = 1 - requests.slow / requests.total
    limit = f"{objectives.latency_ms:.0f} ms"
    p95 = "no p95" if requests.p95_ms is None else f"p95 {requests.p95_ms:.0f} ms"
    notes.append(f"within {limit} {within:.2%} ({requests.slow} slower), {p95}")
    if requests.total < objectives.latency_min_requests:
        notes.append(
            f"latency not judged: {requests.total} requests "
            f"(< {objectives.latency_min_requests}, where one slow request is the whole budget)"
        )
    elif within < objectives.latency:
        found.append(f"within {limit} {within:.2%} < {objectives.latency:.2%}")
    return found, notes


def query_rows(workspace_id: str, query: str) -> list[dict[str, Any]]:
    az = shutil.which("az")
    if az is None:
        raise RuntimeError("the Azure CLI (az) is not on PATH")
    command = [az, "monitor", "log-analytics", "query", "--workspace", workspace_id]
    command += ["--analytics-query", query, "--output", "json"]
    completed = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
    if completed.returncode != 0:
        raise RuntimeError(f"az monitor log-analytics query failed: {completed.stderr.strip()}")
    rows: list[dict[str, Any]] = json.loads(completed.stdout)
    return rows


def wait_for_requests(
    fetch: Callable[[], Requests], first: datetime, last: datetime, poll_seconds: float
) -> Requests:
    """Ask at ``first``, then again until the smoke test's requests are in or ``last`` passes."""
    while (delay := (first - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(min(delay, 60))
    while True:
        requests = fetch()
        if requests.total >= SMOKE_TEST_REQUESTS or datetime.now(UTC) >= last:
            return requests
        print(f"{requests.total} requests ingested so far; asking again in {poll_seconds:g} s")
        time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace-id", default="", help="Log Analytics workspace (customer) id")
    parser.add_argument("--result-file", type=Path, help="judge saved query rows instead")
    parser.add_argument(
        "--values", type=Path, action="append", default=[],
        help="chart values as JSON, for the objectives (repeat: later files override)",
    )  # fmt: skip
    parser.add_argument("--since", type=parse_time, help="when the rollout finished (UTC)")
    parser.add_argument("--soak-minutes", type=float, default=5.0)
    parser.add_argument("--ingestion-minutes", type=float, default=5.0)
    parser.add_argument("--timeout-minutes", type=float, default=10.0)
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    arguments = parser.parse_args(argv)
    if not arguments.result_file and not arguments.workspace_id:
        print("::notice::SLO check skipped: LOG_ANALYTICS_WORKSPACE_ID is not set")
        return 0
    if not arguments.values:
        parser.error("--values is required: the objectives come from the chart values")
    objectives = Objectives.from_values(arguments.values)
    if arguments.result_file:
        requests = Requests.from_rows(json.loads(arguments.result_file.read_text()))
    else:
        if arguments.since is None:
            parser.error("--since is required with --workspace-id")
        soaked = arguments.since + timedelta(minutes=arguments.soak_minutes)
        window = Window(arguments.since, max(soaked, datetime.now(UTC)))
        query = window.query(objectives)
        print(f"intake-api ({ROLE_NAME}) from {_kql_time(window.start)} to {_kql_time(window.end)}")
        print(query)
        try:
            requests = wait_for_requests(
                lambda: Requests.from_rows(query_rows(arguments.workspace_id, query)),
                window.end + timedelta(minutes=arguments.ingestion_minutes),
                window.end + timedelta(minutes=arguments.timeout_minutes),
                arguments.poll_seconds,
            )
        except RuntimeError as failure:
            print(f"FAIL {failure}")
            print("SLO check FAILED")
            return 1
    found, notes = judge(requests, objectives)
    for note in notes:
        print(f"     {note}")
    for breach in found:
        print(f"FAIL {breach}")
    print("SLO check " + ("FAILED" if found else "passed"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
