"""admin-api as `intake run` starts it: uvicorn --factory, settings from the environment, the
store opened in the lifespan, and a token printed by `intake dev-token`."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission, SubmissionCreate
from support import VALID_BODY

BODY = VALID_BODY


@dataclass
class Server:
    url: str
    environment: dict[str, str]
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(data_dir: Path, *uvicorn_options: str) -> Iterator[Server]:
    port = _free_port()
    environment = {**os.environ, "INTAKE_DATA_DIR": str(data_dir), "ENVIRONMENT": "dev"}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "admin_api.main:app_from_environment", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", *uvicorn_options,
        ],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "admin-api did not become ready"
            time.sleep(0.1)
        yield Server(url, environment, data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with _serving(tmp_path) as running:
        yield running


def _dev_token(server: Server, *roles: str, sub: str) -> str:
    arguments = [sys.executable, "-m", "intake_core.cli", "dev-token", "--sub", sub]
    for role in roles:
        arguments += ["--role", role]
    result = subprocess.run(
        arguments, env=server.environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


async def _seed(data_dir: Path) -> str:
    store = SqliteSubmissionStore(data_dir / "intake.db")
    await store.open()
    try:
        create = SubmissionCreate.model_validate(BODY)
        submission = Submission(
            client_id=new_client_id(),
            submitted_at=datetime.now(UTC),
            company=create.company,
            engagement=create.engagement,
            consent=create.consent,
        )
        audit = AuditEntry(
            "submission.created", "public", submission.submitted_at, submission.client_id
        )
        await store.save_new(submission, submission_created(submission), audit)
        return submission.client_id
    finally:
        await store.close()


async def test_search_read_and_erase_over_a_real_socket(server: Server):
    client_id = await _seed(server.data_dir)
    reader = _dev_token(server, "Submissions.Read", sub="reader@example.com")
    eraser = _dev_token(server, "Submissions.Erase", "Audit.Read", sub="dpo@example.com")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await client.get("/v1/submissions")).status_code == 401
        page = await client.get(
            "/v1/submissions",
            params={"q": "lovelace"},
            headers={"Authorization": f"Bearer {reader}"},
        )
        assert page.status_code == 200
        assert [item["clientId"] for item in page.json()["items"]] == [client_id]
        forbidden = await client.post(
            f"/v1/submissions/{client_id}/erase", headers={"Authorization": f"Bearer {reader}"}
        )
        assert forbidden.status_code == 403
        erased = await client.post(
            f"/v1/submissions/{client_id}/erase", headers={"Authorization": f"Bearer {eraser}"}
        )
        assert erased.status_code == 200 and erased.json()["erasedAt"]
        trail = await client.get(
            f"/v1/submissions/{client_id}/audit", headers={"Authorization": f"Bearer {eraser}"}
        )
        assert [(e["action"], e["actor"]) for e in trail.json()][-1] == (
            "submission.erase",
            "dpo@example.com",
        )
        figures = await client.get(
            "/v1/figures", params={"days": 1}, headers={"Authorization": f"Bearer {reader}"}
        )
        assert figures.status_code == 200
        assert figures.json()["total"] == 1  # the erased record still counts
        metrics = await client.get("/metrics")
        assert "http_requests_total" in metrics.text


def test_a_chunked_body_that_declares_a_small_length_is_counted(tmp_path: Path):
    # uvicorn's h11 (httptools refuses such a request itself) reads a chunked body whole even
    # when the request also declares a Content-Length; the limit must count what arrives.
    client_id = asyncio.run(_seed(tmp_path))
    with _serving(tmp_path, "--http", "h11") as server:
        manager = _dev_token(server, "Submissions.Manage", "Submissions.Read", sub="m@example.com")
        body = b'{"status": "contacted"' + b" " * 20_000 + b"}"  # over the 16 KiB default
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(part), part)
            for part in (body[i : i + 4096] for i in range(0, len(body), 4096))
        )
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(
                f"PATCH /v1/submissions/{client_id} HTTP/1.1\r\nHost: admin.test\r\n"
                f"Authorization: Bearer {manager}\r\nContent-Type: application/json\r\n"
                "Content-Length: 24\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                .encode() + chunks + b"0\r\n\r\n"
            )  # fmt: skip
            answer = b""
            while part := connection.recv(65536):
                answer += part
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"application/problem+json" in answer
        record = httpx.get(
            f"{server.url}/v1/submissions/{client_id}",
            headers={"Authorization": f"Bearer {manager}"},
        )
        assert record.json()["status"] == "received"
