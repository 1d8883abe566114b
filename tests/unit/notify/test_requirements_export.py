"""functions/notify/requirements.txt (for `func azure functionapp publish`) matches uv.lock."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[3]


def test_function_requirements_are_exported_from_the_lock(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` tells its own path in $UV
    assert uv, "uv is needed to export the lock"
    exported = tmp_path / "requirements.txt"
    subprocess.run(
        [uv, "export", "--package", "intake-notify", "--no-dev", "--frozen", "--no-emit-workspace",
         "--format", "requirements-txt", "--no-header", "--quiet", "-o", str(exported)],
        cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    committed = (ROOT / "functions" / "notify" / "requirements.txt").read_text()
    assert committed == exported.read_text(), (
        "functions/notify/requirements.txt is stale: run `make function-requirements`"
    )
