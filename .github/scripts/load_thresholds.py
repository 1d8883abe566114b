#!/usr/bin/env python3
"""Pass/fail gate for a headless Locust run, from the SLOs (docs/cicd.md, "Load-test gate").

Reads Locust's `<prefix>_stats.csv` and fails when the run is too small to mean anything, when
the failure ratio exceeds the error budget, or when a 95th percentile exceeds the latency
objective (aggregated, and for the submission endpoint on its own).

    python3 .github/scripts/load_thresholds.py results/locust_stats.csv \
        --max-failure-ratio 0.001 --max-p95-ms 500 --min-requests 500
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

AGGREGATED = "Aggregated"
SUBMISSIONS = "/v1/submissions"


def read_stats(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(handle)}


def breaches(
    stats: dict[str, dict[str, str]], max_failure_ratio: float, max_p95_ms: float, min_requests: int
) -> list[str]:
    """The thresholds this run breaks; an empty list means the gate passes."""
    total = next((row for key, row in stats.items() if key.endswith(AGGREGATED)), None)
    if total is None:
        return ["no Aggregated row: not a Locust stats file"]
    found: list[str] = []
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    if requests < min_requests:
        found.append(f"only {requests} requests (< {min_requests}): the run proves nothing")
    elif failures / requests > max_failure_ratio:
        found.append(f"failure ratio {failures / requests:.4%} > {max_failure_ratio:.4%}")
    for key, row in stats.items():
        if key.endswith(AGGREGATED) or key.endswith(SUBMISSIONS):
            p95 = row.get("95%", "N/A")
            if p95 not in ("", "N/A") and float(p95) > max_p95_ms:
                found.append(f"{key}: p95 {float(p95):.0f} ms > {max_p95_ms:.0f} ms")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", type=Path, help="Locust <prefix>_stats.csv")
    parser.add_argument("--max-failure-ratio", type=float, default=0.001)
    parser.add_argument("--max-p95-ms", type=float, default=500.0)
    parser.add_argument("--min-requests", type=int, default=500)
    arguments = parser.parse_args(argv)
    found = breaches(
        read_stats(arguments.stats),
        arguments.max_failure_ratio,
        arguments.max_p95_ms,
        arguments.min_requests,
    )
    for breach in found:
        print(f"FAIL {breach}")
    print("load-test gate " + ("FAILED" if found else "passed"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
