"""Each web entry point freezes its start-up objects, out of the garbage collector's sight."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("service", ["intake_api", "admin_api", "intake_ui"])
def test_the_entry_point_freezes_what_start_up_made(service: str, tmp_path: Path) -> None:
    # A fresh interpreter: freezing is process-wide, and this test process has its own heap.
    script = (
        f"import gc; from {service}.main import app_from_environment; "
        "app_from_environment(); print(gc.get_freeze_count())"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env={"INTAKE_DATA_DIR": str(tmp_path), "ENVIRONMENT": "dev", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(completed.stdout.split()[-1]) > 50_000
