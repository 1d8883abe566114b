"""actionlint (with shellcheck) and checkov's GitHub Actions checks over .github/, offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from infra_workflows.policy import ROOT

pytestmark = pytest.mark.infra

BAD_WORKFLOW = """\
name: bad
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: echo $UNQUOTED ${{ github.event.head_commit.message }}
"""


def run_actionlint(
    actionlint: str, shellcheck: str, *files: str
) -> subprocess.CompletedProcess[str]:
    command = [actionlint, "-no-color", f"-shellcheck={shellcheck}", *files]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_actionlint_passes_every_workflow(actionlint: str, shellcheck: str) -> None:
    result = run_actionlint(actionlint, shellcheck)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_runs_shellcheck_on_run_scripts(
    actionlint: str, shellcheck: str, tmp_path: Path
) -> None:
    workflow = tmp_path / "bad.yml"
    workflow.write_text(BAD_WORKFLOW)
    result = run_actionlint(actionlint, shellcheck, str(workflow))
    assert result.returncode == 1
    assert "SC2086" in result.stdout  # shellcheck's unquoted variable
    assert "potentially untrusted" in result.stdout  # script injection from the commit message


def run_checkov(checkov: list[str], directory: Path) -> dict[str, int]:
    command = [*checkov, "--directory", str(directory), "--framework", "github_actions"]
    command += ["--skip-download", "--output", "json", "--quiet", "--compact"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(result.stdout or "{}")
    reports = report if isinstance(report, list) else [report]
    summary = {"passed": 0, "failed": 0}
    for entry in reports:
        for key in summary:
            summary[key] += int(entry.get("summary", {}).get(key, 0))
    return summary


def test_checkov_github_actions_checks_pass(checkov: list[str]) -> None:
    summary = run_checkov(checkov, ROOT / ".github")
    assert summary["failed"] == 0, summary
    assert summary["passed"] > 100, f"checkov scanned almost nothing: {summary}"


def test_checkov_catches_a_bad_workflow(checkov: list[str], tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BAD_WORKFLOW)
    assert run_checkov(checkov, tmp_path / ".github")["failed"] >= 1


def test_yamllint_passes_the_github_folder() -> None:
    command = [sys.executable, "-m", "yamllint", "--strict", "-c", str(ROOT / ".yamllint.yaml")]
    result = subprocess.run(
        [*command, str(ROOT / ".github")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
