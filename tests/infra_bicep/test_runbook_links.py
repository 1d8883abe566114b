"""Every alert links a runbook that exists: the address is a parameter, not a placeholder.

The chart takes it as ``monitoring.prometheusRule.runbookUrl``, Bicep as ``runbookUrl``, each with
``{alert}`` standing for the alert's name. The parameter files read it from ``RUNBOOK_URL``, which
infra.yml sets to the runbooks of the repository it deploys from; without it they fall back to the
chart's default, which the parity test then compares.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from infra.toolbox import CHART, ROOT

from .templates import BICEP_DIR, ENVIRONMENTS, MAIN, environment_fallback, load

pytestmark = pytest.mark.infra

WORKFLOW = ROOT / ".github" / "workflows" / "infra.yml"
ALERTS = BICEP_DIR / "modules" / "alerts.bicep"
CI_VALUE = re.compile(
    r"\$\{\{ vars\.RUNBOOK_URL \|\| format\('([^']+)', github\.server_url, github\.repository\) \}\}"
)


def chart_default() -> str:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    url: str = values["monitoring"]["prometheusRule"]["runbookUrl"]
    return url


def chart_pattern() -> re.Pattern[str]:
    schema = json.loads((CHART / "values.schema.json").read_text())
    rule = schema["properties"]["monitoring"]["properties"]["prometheusRule"]
    return re.compile(rule["properties"]["runbookUrl"]["pattern"])


def github_format(template: str, *values: str) -> str:
    """GitHub Actions' format(): {N} replaced, {{ and }} unescaped."""
    parts = re.split(r"(\{\{|\}\}|\{\d+\})", template)
    escaped = {"{{": "{", "}}": "}"}
    return "".join(
        escaped.get(p) or (values[int(p[1:-1])] if re.fullmatch(r"\{\d+\}", p) else p)
        for p in parts
    )


def ci_template() -> str:
    """The format() template of RUNBOOK_URL in the infra.yml steps that deploy or preview."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "az deployment sub" in step.get("run", "")
    ]
    assert len(steps) == 2, [s["name"] for s in steps]  # what-if on pull requests, and deploy
    templates = set()
    for step in steps:
        match = CI_VALUE.fullmatch(step["env"].get("RUNBOOK_URL", ""))
        assert match, f"{step['name']} does not pass RUNBOOK_URL"
        templates.add(match.group(1))
    (template,) = templates
    return template


def length_bounds() -> tuple[int, int]:
    """main.bicep's @minLength and @maxLength of runbookUrl."""
    (param,) = [p for p in load(MAIN).params if p.name == "runbookUrl"]
    bounds = [param.decorators[d] for d in ("minLength", "maxLength")]
    low, high = (int(re.sub(r"\D", "", bound)) for bound in bounds)
    return low, high


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_reads_the_address_with_the_charts_default(env: str) -> None:
    parameter_file = BICEP_DIR / "env" / f"{env}.bicepparam"
    assert environment_fallback(parameter_file, "runbookUrl") == ("RUNBOOK_URL", chart_default())


def test_ci_points_the_alerts_at_the_runbooks_of_the_repository_it_deploys() -> None:
    url = github_format(ci_template(), "https://github.com", "a10corp/onboarding")
    assert url == "https://github.com/a10corp/onboarding/blob/main/docs/runbooks/{alert}.md"


def test_every_address_fits_what_the_chart_and_main_accept() -> None:
    fallbacks = {
        environment_fallback(BICEP_DIR / "env" / f"{env}.bicepparam", "runbookUrl")[1]
        for env in ENVIRONMENTS
    }
    ci = github_format(ci_template(), "https://github.com", "a10corp/onboarding")
    low, high = length_bounds()
    for address in {chart_default(), ci, *fallbacks}:
        assert chart_pattern().match(address), address
        assert low <= len(address) <= high, address


def test_the_alerts_module_has_no_address_of_its_own() -> None:
    assert "https://" not in ALERTS.read_text()
