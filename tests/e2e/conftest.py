"""End-to-end fixtures: the whole platform started the way ``make run`` starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.process_tree import interrupt_tree, kill_tree


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Platform:
    ui: str
    intake_api: str
    admin_api: str
    # Only for a platform these tests started: its data folder (mail, dev issuer key).
    data_dir: Path | None = None

    def local_data(self) -> Path:
        if self.data_dir is None:
            pytest.skip("needs the platform's data folder, which a deployed environment hides")
        return self.data_dir


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The platform under ``intake run`` on free ports, or a deployed one at ``E2E_BASE_URL``
    (the kind job: the UI at that URL, the APIs at ``E2E_INTAKE_API_URL``/``E2E_ADMIN_API_URL``)."""
    if base := os.environ.get("E2E_BASE_URL"):
        yield Platform(
            ui=base.rstrip("/"),
            intake_api=os.environ.get("E2E_INTAKE_API_URL", base).rstrip("/"),
            admin_api=os.environ.get("E2E_ADMIN_API_URL", base).rstrip("/"),
        )
        return
    yield from _local_platform(tmp_path_factory)


def _local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp("platform-data")
    ui, intake_api, admin_api, notify = free_ports(4)
    log = data_dir / "platform.log"
    environment = {**os.environ, "INTAKE_DATA_DIR": str(data_dir), "ENVIRONMENT": "dev"}
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "intake_core.cli",
                "run",
                "--ports",
                f"{ui},{intake_api},{admin_api},{notify}",
            ],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 90
    while "is running" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            kill_tree(process)
            pytest.fail(f"the platform did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    local = "http://127.0.0.1"
    yield Platform(f"{local}:{ui}", f"{local}:{intake_api}", f"{local}:{admin_api}", data_dir)
    if not interrupt_tree(process, grace=30):
        pytest.fail("the platform did not stop within 30 s of Ctrl-C")
