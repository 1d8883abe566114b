#!/usr/bin/env python3
"""Post-deployment SLO check against Azure Monitor (Log Analytics / workspace App Insights).

The query is a placeholder to tune with docs/slos.md: availability and p95 latency of the
HTTP services over the window since the rollout. Without a workspace id it reports a notice
and passes, so a fresh repository can deploy before monitoring exists (docs/cicd.md).

    python3 .github/scripts/slo_check.py --workspace-id "$LOG_ANALYTICS_WORKSPACE_ID" \
        --window 15m --min-availability 0.999 --max-p95-ms 500
    python3 .github/scripts/slo_check.py --result-file rows.json   # evaluate saved rows
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

QUERY = """
AppRequests
| where TimeGenerated > ago({window})
| where AppRoleName in ("intake-api", "admin-api", "intake-ui")
| summarize total = count(), failed = countif(Success == false),
            p95 = percentile(DurationMs, 95)
"""


def query_rows(workspace_id: str, window: str) -> list[dict[str, Any]]:
    az = shutil.which("az")
    if az is None:
        raise RuntimeError("the Azure CLI (az) is not on PATH")
    command = [az, "monitor", "log-analytics", "query", "--workspace", workspace_id]
    command += ["--analytics-query", QUERY.format(window=window), "--output", "json"]
    completed = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    rows: list[dict[str, Any]] = json.loads(completed.stdout)
    return rows


def breaches(rows: list[dict[str, Any]], min_availability: float, max_p95_ms: float) -> list[str]:
    if not rows or int(rows[0].get("total", 0)) == 0:
        return ["no requests in the window: cannot judge the SLO (is telemetry flowing?)"]
    row = rows[0]
    total, failed = int(row["total"]), int(row["failed"])
    availability = 1 - failed / total
    found = []
    if availability < min_availability:
        found.append(f"availability {availability:.4%} < {min_availability:.4%}")
    if float(row["p95"]) > max_p95_ms:
        found.append(f"p95 {float(row['p95']):.0f} ms > {max_p95_ms:.0f} ms")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace-id", default="", help="Log Analytics workspace (customer) id")
    parser.add_argument("--result-file", type=Path, help="evaluate saved query rows instead")
    parser.add_argument("--window", default="15m")
    parser.add_argument("--min-availability", type=float, default=0.999)
    parser.add_argument("--max-p95-ms", type=float, default=500.0)
    arguments = parser.parse_args(argv)
    if arguments.result_file:
        rows = json.loads(arguments.result_file.read_text())
    elif arguments.workspace_id:
        rows = query_rows(arguments.workspace_id, arguments.window)
    else:
        print("::notice::SLO check skipped: LOG_ANALYTICS_WORKSPACE_ID is not set")
        return 0
    found = breaches(rows, arguments.min_availability, arguments.max_p95_ms)
    for breach in found:
        print(f"FAIL {breach}")
    print("SLO check " + ("FAILED" if found else "passed"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
