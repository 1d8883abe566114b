"""The real entry point under uvicorn on a real socket, started and stopped like `intake run`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_uvicorn_factory_serves_and_shuts_down_cleanly(tmp_path, valid_body) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "INTAKE_DATA_DIR": str(tmp_path),
        "MAX_BODY_BYTES": "5000",
        "RATE_LIMIT_PER_MINUTE": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "intake_api.main:app_from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "intake-api did not start"
            time.sleep(0.1)

        with httpx.Client(base_url=base, timeout=10) as client:
            created = client.post("/v1/submissions", json=valid_body)
            assert created.status_code == 201
            # The limit comes from the environment; the socket is real, so is Content-Length.
            too_big = client.post(
                "/v1/submissions",
                content=b"{" + b" " * 6000 + b"}",
                headers={"content-type": "application/json"},
            )
            assert too_big.status_code == 413
            assert too_big.headers["content-type"] == "application/problem+json"
            assert client.get("/readyz").status_code == 200
            # The UI calls from 127.0.0.1, a trusted proxy for uvicorn by default: the client
            # address it forwards is what the rate limit counts, not the UI's own.
            for user in ("203.0.113.1", "203.0.113.2"):
                forwarded = {"x-forwarded-for": user}
                statuses = [
                    client.post("/v1/submissions", json=valid_body, headers=forwarded).status_code
                    for _ in range(3)
                ]
                assert statuses == [201, 201, 429]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()

    # Uvicorn re-raises the signal it handled once shutdown is done.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert "ada@example.com" not in output  # no PII in the logs
    assert (tmp_path / "intake.db").exists()
