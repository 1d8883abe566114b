"""End-to-end fixtures: the whole platform started the way ``make run`` starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


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
    data_dir: Path
    ui: str
    intake_api: str
    admin_api: str
    process: subprocess.Popen[str]
    log: Path


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
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
            process.kill()
            pytest.fail(f"the platform did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    local = "http://127.0.0.1"
    yield Platform(
        data_dir, f"{local}:{ui}", f"{local}:{intake_api}", f"{local}:{admin_api}", process, log
    )
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the platform did not stop within 30 s of Ctrl-C")
