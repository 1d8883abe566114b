"""The scripts the pipelines run: smoke test, load-test gate (the SLO check: test_slo_check.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from infra_workflows.helpers import free_port, run_script

pytestmark = pytest.mark.infra

STATS_HEADER = "Type,Name,Request Count,Failure Count,Median Response Time,95%,99%"


def test_smoke_test_passes_against_the_real_intake_api(intake_api: str) -> None:
    result = run_script("smoke_test.py", "--api-url", intake_api, "--attempts", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("healthz", "readyz", "submission: CL-", "status lookup: received"):
        assert f"ok   {check}" in result.stdout


class LyingApi(BaseHTTPRequestHandler):
    """Healthy probes, but a submission answer that is not a Client ID."""

    def do_GET(self) -> None:
        self._answer(200, {"status": "ok"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(201, {"clientId": "<script>", "status": "received"})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_smoke_test_fails_on_a_wrong_answer() -> None:
    server = HTTPServer(("127.0.0.1", 0), LyingApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_script("smoke_test.py", "--api-url", url, "--attempts", "1")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1
    assert "FAIL submission: POST /v1/submissions: not a Client ID" in result.stdout
    assert "smoke test FAILED: submission, status lookup" in result.stdout


def test_smoke_test_fails_when_nothing_answers() -> None:
    result = run_script(
        "smoke_test.py", "--api-url", f"http://127.0.0.1:{free_port()}", "--attempts", "1"
    )
    assert result.returncode == 1
    assert "FAIL healthz" in result.stdout and "FAIL readyz" in result.stdout


def test_smoke_test_refuses_other_schemes() -> None:
    result = run_script("smoke_test.py", "--api-url", "file:///etc", "--attempts", "1")
    assert result.returncode == 1
    assert "refusing a non-HTTP URL" in result.stdout


def write_stats(tmp_path: Path, *rows: str) -> Path:
    stats = tmp_path / "locust_stats.csv"
    stats.write_text("\n".join([STATS_HEADER, *rows]) + "\n")
    return stats


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["POST,/v1/submissions,1000,0,80,240,400", ",Aggregated,1000,0,80,240,400"], []),
        (
            [",Aggregated,1000,5,80,240,400"],
            ["failure ratio 0.5000% > 0.1000%"],
        ),
        (
            ["POST,/v1/submissions,1000,0,300,900,1500", ",Aggregated,1000,0,80,450,900"],
            ["POST /v1/submissions: p95 900 ms > 500 ms"],
        ),
        ([",Aggregated,20,0,80,240,400"], ["only 20 requests (< 500): the run proves nothing"]),
        (
            ["POST,/v1/submissions,1000,0,80,240,400"],
            ["no Aggregated row: not a Locust stats file"],
        ),
    ],
)
def test_load_gate_applies_the_slo_thresholds(
    tmp_path: Path, rows: list[str], expected: list[str]
) -> None:
    result = run_script("load_thresholds.py", str(write_stats(tmp_path, *rows)))
    assert result.returncode == (1 if expected else 0), result.stdout
    assert [line[5:] for line in result.stdout.splitlines() if line.startswith("FAIL ")] == expected
