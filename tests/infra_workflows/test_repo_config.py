"""Dependabot covers every ecosystem we pin, and docs/cicd.md names what the pipelines need."""

from __future__ import annotations

import re

import pytest
import yaml
from infra_workflows.policy import ROOT, WORKFLOWS

pytestmark = pytest.mark.infra

MANIFESTS = {
    "uv": "uv.lock",
    "npm": "package.json",
    "github-actions": ".github/workflows",
    "docker": "Dockerfile",
}


def test_dependabot_updates_every_ecosystem_we_pin() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    updates = {entry["package-ecosystem"]: entry["directory"] for entry in config["updates"]}
    assert set(updates) == set(MANIFESTS)
    for ecosystem, directory in updates.items():
        where = ROOT / directory.lstrip("/")
        assert (where / MANIFESTS[ecosystem]).exists(), (
            f"{ecosystem}: nothing to update in {directory}"
        )


def test_docs_name_every_variable_and_workflow() -> None:
    docs = (ROOT / "docs" / "cicd.md").read_text()
    variables = {
        name
        for path in WORKFLOWS.glob("*.yml")
        for name in re.findall(r"vars\.([A-Z_]+)", path.read_text())
    }
    assert variables, "the workflows read no variables: the regex is broken"
    assert sorted(name for name in variables if f"`{name}`" not in docs) == []
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml") if p.name not in docs) == []


def test_trivyignore_entries_are_commented_and_expire() -> None:
    lines = (ROOT / ".trivyignore").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            assert "exp:" in line, f"line {number + 1}: an ignore entry needs an exp: date"
            assert lines[number - 1].startswith("#"), f"line {number + 1}: say why, above it"
