"""helm and promtool for the tests that render the chart (scripts/install-infra-tools.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest
from infra.toolbox import ROOT, TOOLS, run


@pytest.fixture(scope="session")
def helm() -> Path:
    binary = TOOLS / "helm"
    if not binary.exists():
        result = run(["bash", ROOT / "scripts" / "install-infra-tools.sh"])
        assert result.returncode == 0 and binary.exists(), result.stdout + result.stderr
    return binary


@pytest.fixture(scope="session")
def promtool(helm: Path) -> Path:
    """Installed next to helm by scripts/install-infra-tools.sh."""
    binary = TOOLS / "promtool"
    assert binary.exists(), f"promtool missing from {TOOLS}"
    return binary
