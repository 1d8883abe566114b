"""deploy-env.yml imports the chart's dashboard into the environment's Azure Managed Grafana.

The file is the one the chart ships as the Grafana sidecar's ConfigMap, so a Grafana in a
cluster and Managed Grafana show the same dashboard. The step comes after the checks, so that
only a release that stays updates it and a Grafana failure never rolls a release back, and it
signs in as the job does (OIDC), whose identity holds Grafana Editor on that instance only
(tests/infra_bicep/test_structure.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from infra_workflows import policy

pytestmark = pytest.mark.infra

WORKFLOW = policy.WORKFLOWS / "deploy-env.yml"
CHART = policy.ROOT / "charts" / "onboarding"


def deploy_job() -> dict[str, Any]:
    (job,) = policy.load(WORKFLOW)["jobs"].values()
    return dict(job)


def import_step(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    found = [
        (index, step)
        for index, step in enumerate(job["steps"])
        if "az grafana dashboard import" in str(step.get("run", ""))
    ]
    assert len(found) == 1, "one step imports the dashboard"
    return found[0]


def test_the_workflow_imports_the_file_the_chart_ships() -> None:
    job = deploy_job()
    _, step = import_step(job)
    env = {**job["env"], **step["env"]}
    run = step["run"]
    definition = re.search(r'--definition "\$(\w+)"', run)
    assert definition, run
    imported = policy.ROOT / env[definition[1]]
    # The chart's ConfigMap carries every dashboards/*.json: that is this one file.
    template = (CHART / "templates" / "grafana-dashboard.yaml").read_text()
    assert '(.Files.Glob "dashboards/*.json").AsConfig' in template
    assert sorted((CHART / "dashboards").glob("*.json")) == [imported]
    linked = policy.ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
    assert imported.resolve() == linked.resolve()
    # Into this environment's instance, replacing the dashboard of the same uid.
    assert '--name "$GRAFANA_NAME"' in run and env["GRAFANA_NAME"] == "${{ vars.GRAFANA_NAME }}"
    assert '--resource-group "$RESOURCE_GROUP"' in run
    assert env["RESOURCE_GROUP"] == "${{ vars.AKS_RESOURCE_GROUP }}"
    assert "--overwrite true" in run
    # The az extension at a pinned version, as every tool the workflows install.
    assert 'az extension add --name amg --version "$AMG_EXTENSION_VERSION"' in run
    assert re.fullmatch(r"\d+\.\d+\.\d+", env["AMG_EXTENSION_VERSION"])
    # Without an instance to import into, it says so and the deployment stands.
    assert re.search(r'if \[ -z "\$GRAFANA_NAME" \]; then\n\s+echo "::warning::', run)


def test_the_import_comes_last_and_only_after_every_check_passed() -> None:
    job = deploy_job()
    index, step = import_step(job)
    steps = job["steps"]
    assert index == len(steps) - 1, "after the checks and the rollback"
    # No `if:`: GitHub's default success() skips it once a check failed (and the release was
    # rolled back), and a failure here comes after the rollback step, which never runs again.
    assert "if" not in step
    (rollback,) = [s for s in steps if "bash rollback.sh" in str(s.get("run", ""))]
    assert "failure()" in rollback["if"]
    for check in ("smoke", "slo_check.py"):
        assert any(check in str(s.get("run", "")) for s in steps[:index]), check
    # Signed in through the job's OIDC login, with no credential of its own.
    logins = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("azure/login@")]
    assert logins and logins[0] < index
    assert job["permissions"]["id-token"] == "write"
    assert not any(re.search(r"secrets\.|--api-key|--token", str(v)) for v in step["env"].values())
    assert not re.search(r"--api-key|--token|-t ", step["run"])
