"""The notify Function's publish folder imports: its requirements carry the workspace members.

`functions/notify/requirements.txt` holds the locked third-party packages only (a unit test keeps
it equal to `uv export`), so publishing `functions/notify` as it is leaves `intake_core` and
`intake_notify` out and the host cannot import `function_app`. `package_function.py` builds the
folder that is published; this installs its requirements the way the remote build does (hash-
checking mode, from the folder) and imports the app from what was installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from infra_workflows import policy
from infra_workflows.helpers import run_script

pytestmark = pytest.mark.infra

FUNCTION = policy.ROOT / "functions" / "notify"
IMPORT_APP = (
    "import sys; sys.path[:0] = sys.argv[1:3];"
    " import function_app; print(type(function_app.app).__name__)"
)


def install(requirements: Path, site: Path) -> subprocess.CompletedProcess[str]:
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"
    command = [uv, "pip", "install", "--quiet", "--python", sys.executable, "--target", str(site)]
    command += ["--require-hashes", "--no-deps", "-r", requirements.name]
    return subprocess.run(
        command, cwd=requirements.parent, capture_output=True, text=True, timeout=600, check=False
    )


def import_app(app: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_APP, str(app), str(site)],
        cwd=site.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_exported_requirements_alone_cannot_import_the_app() -> None:
    text = (FUNCTION / "requirements.txt").read_text()
    assert not re.search(r"^(intake[-_](core|notify)|\./|-e )", text, re.MULTILINE)
    assert "from intake_notify" in (FUNCTION / "function_app.py").read_text()


def test_the_published_folder_installs_and_imports(tmp_path: Path) -> None:
    out = tmp_path / "notify-function"
    result = run_script("package_function.py", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "function_app.py", "host.json", "requirements.txt", "wheels",
    ]  # fmt: skip
    wheels = sorted(p.name for p in (out / "wheels").iterdir())
    assert [w.split("-")[0] for w in wheels] == ["intake_core", "intake_notify"]
    requirements = (out / "requirements.txt").read_text()
    assert requirements.startswith((FUNCTION / "requirements.txt").read_text().rstrip("\n"))
    for wheel in wheels:
        assert f"./wheels/{wheel} \\\n    --hash=sha256:" in requirements
    site = tmp_path / "site"
    installed = install(out / "requirements.txt", site)
    assert installed.returncode == 0, installed.stderr
    imported = import_app(out, site)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "FunctionApp"


def test_the_dockerfile_does_not_promise_flex_consumption() -> None:
    text = (FUNCTION / "Dockerfile").read_text()
    assert "Container Apps, Premium, Flex" not in text
    assert "Flex Consumption" in text  # says what Flex runs instead
