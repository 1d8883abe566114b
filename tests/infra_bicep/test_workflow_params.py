"""infra.yml gives every step that compiles a parameter file the variables that file reads.

A `.bicepparam` file's ``readEnvironmentVariable('NAME')`` without a default fails the
compilation when NAME is unset, so ``az bicep build-params``, what-if and the deployment would
all stop before they start.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from .templates import REPO, param_files

pytestmark = pytest.mark.infra

WORKFLOW = REPO / ".github" / "workflows" / "infra.yml"
DEPLOY_AZURE_DOC = REPO / "docs" / "deploy-azure.md"
READ = re.compile(r"readEnvironmentVariable\('(\w+)'(\s*,)?")


def read_variables() -> tuple[set[str], set[str]]:
    """(required, optional): the names the parameter files read, without and with a default."""
    required: set[str] = set()
    optional: set[str] = set()
    for path in param_files():
        for name, default in READ.findall(path.read_text()):
            (optional if default else required).add(name)
    return required, optional - required


def compiling_steps() -> dict[str, dict[str, Any]]:
    """'job / step' -> step, for each step that compiles a parameter file."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    found = {}
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            run = step.get("run", "")
            if "build-params" in run or "--parameters" in run:
                found[f"{job_name} / {step['name']}"] = step
    return found


def test_the_parameter_files_read_what_the_test_expects() -> None:
    required, optional = read_variables()
    assert required == {"AKS_API_ALLOWED_CIDRS", "ALERT_EMAIL"}
    assert optional == {
        "AKS_ADMIN_GROUP_IDS",
        "A10_SHARED_SUBSCRIPTION_ID",
        "DEPLOY_PRINCIPAL_ID",
        "PAGERDUTY_WEBHOOK_URL",
        "RUNBOOK_URL",
    }


def test_every_step_that_compiles_parameters_gets_the_required_variables() -> None:
    required, _ = read_variables()
    steps = compiling_steps()
    assert len(steps) == 3, sorted(steps)  # build-params, what-if, deploy
    for name, step in steps.items():
        missing = required - set(step.get("env", {}))
        assert not missing, f"{name} does not pass {sorted(missing)}"


def test_what_if_and_deploy_get_the_optional_ones_too() -> None:
    """Left out, they would silently deploy without admin groups, CD's Grafana roles or the
    PagerDuty receiver."""
    required, optional = read_variables()
    for name, step in compiling_steps().items():
        if "az deployment sub" not in step["run"]:
            continue
        env = step["env"]
        # A10_SHARED_SUBSCRIPTION_ID stays out: CI deploys where rg-root-iac is in the same
        # subscription (the default), see deploy-azure.md.
        passed = required | optional - {"PAGERDUTY_WEBHOOK_URL", "A10_SHARED_SUBSCRIPTION_ID"}
        assert passed <= set(env), name
        for variable in required:
            assert env[variable] == f"${{{{ vars.{variable} }}}}", "no stand-in when deploying"
            assert f'"${{{variable}:?' in step["run"], (
                f"{name} should stop when {variable} is empty"
            )
        if "deployment sub create" in step["run"]:
            assert env["PAGERDUTY_WEBHOOK_URL"] == "${{ secrets.PAGERDUTY_WEBHOOK_URL }}"


def test_the_variables_are_documented() -> None:
    required, optional = read_variables()
    section = DEPLOY_AZURE_DOC.read_text().split("**In CI**", 1)[1].split("\n\n", 1)[0]
    for name in required | optional:
        assert f"`{name}`" in section, name
