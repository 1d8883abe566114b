#!/usr/bin/env python3
"""Smoke test of a deployed environment, standard library only (runs on any runner).

Checks, in order: intake-api /healthz and /readyz, a real submission, a status lookup of that
submission, and that the UI answers. Exit 0 when every check passes, 1 otherwise; one line per
check so the job log reads as a report. intake-api has no public route: the deploy workflow runs
the API checks inside the cluster (`cluster_jobs.py smoke`) and the UI check from the runner.

    python3 .github/scripts/smoke_test.py --api-url http://onboarding-intake-api:8001 --attempts 10
    python3 .github/scripts/smoke_test.py --ui-url https://onboarding-dev.example.com
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib import error, request

CLIENT_ID = re.compile(r"^CL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "submission.json"
SMOKE_EMAIL = "smoke-test@example.com"


class SmokeFailure(Exception):
    """A check did not get the answer it needs."""


def call(
    method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    if not url.startswith(("http://", "https://")):
        raise SmokeFailure(f"refusing a non-HTTP URL: {url}")
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    req = request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - scheme checked above
    try:
        with request.urlopen(req, timeout=10) as response:  # noqa: S310 - scheme checked above
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except error.HTTPError as failure:
        return failure.code, failure.headers.get("Content-Type", ""), failure.read()


def expect_ok(url: str, attempts: int) -> None:
    """Right after a rollout the ingress may still route to old pods: retry with a short backoff."""
    last = "no answer"
    for attempt in range(attempts):
        try:
            status, _, _ = call("GET", url)
            if status == 200:
                return
            last = f"HTTP {status}"
        except (OSError, SmokeFailure) as failure:
            last = str(failure)
        time.sleep(min(2**attempt, 10))
    raise SmokeFailure(f"GET {url}: {last}")


def smoke_submission(run_id: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(EXAMPLE.read_text())
    body["company"]["name"] = f"Smoke test {run_id}"
    body["company"]["contact"]["email"] = SMOKE_EMAIL
    body["engagement"]["notes"] = "Automated post-deployment smoke test; safe to mark as lost."
    return body


def submit(api: str, run_id: str) -> str:
    key = str(uuid.uuid4())
    status, _, raw = call(
        "POST", f"{api}/v1/submissions", smoke_submission(run_id), {"Idempotency-Key": key}
    )
    if status != 201:
        raise SmokeFailure(f"POST /v1/submissions: HTTP {status} {raw[:300]!r}")
    client_id = str(json.loads(raw).get("clientId", ""))
    if not CLIENT_ID.match(client_id):
        raise SmokeFailure(f"POST /v1/submissions: not a Client ID: {client_id!r}")
    return client_id


def look_up(api: str, client_id: str) -> str:
    body = {"clientId": client_id, "email": SMOKE_EMAIL}
    status, _, raw = call("POST", f"{api}/v1/status-lookup", body)
    if status != 200:
        raise SmokeFailure(f"POST /v1/status-lookup: HTTP {status} {raw[:300]!r}")
    answer = json.loads(raw)
    if set(answer) != {"status"}:
        raise SmokeFailure(f"POST /v1/status-lookup must answer only the status: {answer}")
    return str(answer["status"])


def check_ui(ui: str) -> None:
    status, content_type, _ = call("GET", f"{ui}/", headers={"Accept": "text/html"})
    if status != 200 or not content_type.startswith("text/html"):
        raise SmokeFailure(f"GET {ui}/: HTTP {status} {content_type}")


def run(api: str | None, ui: str | None, attempts: int, run_id: str) -> list[str]:
    """Runs every check asked for; returns the failures (empty when healthy)."""
    failures: list[str] = []

    def step(name: str, check: Any) -> Any:
        try:
            result = check()
        except (SmokeFailure, OSError, ValueError) as failure:
            print(f"FAIL {name}: {failure}")
            failures.append(name)
            return None
        print(f"ok   {name}" + (f": {result}" if result else ""))
        return result

    if api:
        step("healthz", lambda: expect_ok(f"{api}/healthz", attempts))
        step("readyz", lambda: expect_ok(f"{api}/readyz", attempts))
        client_id = step("submission", lambda: submit(api, run_id))
        if client_id:
            step("status lookup", lambda: look_up(api, client_id))
        else:
            failures.append("status lookup")
    if ui:
        step("ui", lambda: check_ui(ui))
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", help="base URL of intake-api (its Service, in the cluster)")
    parser.add_argument("--ui-url", help="public base URL of intake-ui")
    parser.add_argument("--attempts", type=int, default=10, help="retries for the probes")
    parser.add_argument("--run-id", default=time.strftime("%Y%m%dT%H%M%S"), help="tags the record")
    arguments = parser.parse_args(argv)
    if not (arguments.api_url or arguments.ui_url):
        parser.error("give --api-url, --ui-url or both")
    api = arguments.api_url.rstrip("/") if arguments.api_url else None
    ui = arguments.ui_url.rstrip("/") if arguments.ui_url else None
    failures = run(api, ui, max(arguments.attempts, 1), arguments.run_id)
    if failures:
        print(f"smoke test FAILED: {', '.join(failures)}")
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
