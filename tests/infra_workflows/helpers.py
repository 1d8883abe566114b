"""Small helpers the workflow tests share: run a pipeline script, find a free port, fake a CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from infra_workflows.policy import ROOT

SCRIPTS = ROOT / ".github" / "scripts"


def run_script(
    name: str, *arguments: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPTS / name), *arguments]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_cli(folder: Path, name: str, body: str) -> Path:
    """An executable Python script standing in for `az`, `cosign` or `docker`."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path
