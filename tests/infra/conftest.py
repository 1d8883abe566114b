"""Offline infrastructure checks: helm from .tools/bin (installed on demand), charts rendered once.

Every values file and switch combination the chart supports is rendered once per session into a
temp folder; the tests parse those manifests and feed them to the validators.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from infra.toolbox import CHART, RENDERINGS, ROOT, TOOLS, Rendering, helm_args, run


@pytest.fixture(scope="session")
def helm() -> Path:
    """helm v3.18 in .tools/bin, installed by scripts/install-infra-tools.sh when missing."""
    binary = TOOLS / "helm"
    result = run(["bash", ROOT / "scripts" / "install-infra-tools.sh"])
    if result.returncode != 0 or not binary.exists():
        pytest.fail(f"could not install helm into {TOOLS}:\n{result.stdout}\n{result.stderr}")
    version = run([binary, "version", "--short"]).stdout
    assert version.startswith("v3.18"), version
    return binary


@pytest.fixture(scope="session")
def renderings(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendering]:
    out = tmp_path_factory.mktemp("rendered")
    rendered: dict[str, Rendering] = {}
    for name in RENDERINGS:
        namespace = f"onboarding-{name}"
        result = run(
            [helm, "template", "onboarding", CHART, "--namespace", namespace, *helm_args(name)]
        )
        assert result.returncode == 0, f"helm template {name}:\n{result.stderr}"
        path = out / f"{name}.yaml"
        path.write_text(result.stdout)
        docs = [d for d in yaml.safe_load_all(result.stdout) if d]
        rendered[name] = Rendering(name, path, docs)
    return rendered


@pytest.fixture(scope="session")
def rendered_dir(renderings: dict[str, Rendering]) -> Path:
    return next(iter(renderings.values())).path.parent
