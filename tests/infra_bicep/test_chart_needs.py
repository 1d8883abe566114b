"""What the chart (charts/onboarding) needs from the Azure side, read from both.

The chart is installed into what the Bicep creates; each test here names one thing a pod or a
chart object relies on and finds it in the templates, so a change on either side that breaks
the other fails here rather than in a cluster.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from .templates import BICEP_DIR, MAIN, REPO, load

pytestmark = pytest.mark.infra

CHART = REPO / "charts" / "onboarding"
DEPLOY_AZURE_DOC = REPO / "docs" / "deploy-azure.md"
MODULES = BICEP_DIR / "modules"


def chart_values() -> dict[str, Any]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert isinstance(values, dict)
    return values


def main_module_block(module: str) -> str:
    """The `module <symbol> 'modules/<module>.bicep' = … {…}` block of main.bicep."""
    source = MAIN.read_text()
    start = re.search(rf"(?m)^module \w+ 'modules/{re.escape(module)}\.bicep'", source)
    assert start, module
    return source[start.start() :].split("\n}\n", 1)[0]


def listed(block: str, key: str) -> list[str]:
    """The items of the array `key: [ … ]` in a block, comments left out."""
    body = block.split(f"{key}: [", 1)[1].split("]", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip() and "//" not in line]


# ---------------------------------------------------------------- Key Vault (finding 3)
def test_every_workload_that_mounts_a_key_vault_secret_may_read_the_vault() -> None:
    """Each SecretProviderClass reads with its own workload's identity: a workload without
    Key Vault Secrets User gets 403 and its pods never leave ContainerCreating."""
    mounting = {
        service
        for secret in chart_values()["azure"]["keyVault"]["secrets"]
        for service in secret["services"]
    }
    readers = set(listed(main_module_block("keyvault"), "secretsUserPrincipalIds"))
    assert {f"{service}.principalId" for service in mounting} <= readers
    assert mounting == {"intakeUi", "intakeApi", "adminApi", "notify"}


def test_every_secret_the_chart_mounts_is_created_or_in_the_seed_list() -> None:
    """A missing object fails the CSI mount, so no pod that mounts it would start."""
    created = set(
        re.findall(
            r"(?ms)^resource \w+ 'Microsoft\.KeyVault/vaults/secrets@[^']+' = \{.*?^  name: '([^']+)'",
            (MODULES / "keyvault.bicep").read_text(),
        )
    )
    assert created == {"appinsights-connection-string"}
    seed_step = DEPLOY_AZURE_DOC.read_text().split("1. **Secrets.**", 1)[1].split("\n2. ", 1)[0]
    for secret in chart_values()["azure"]["keyVault"]["secrets"]:
        name = secret["objectName"]
        assert f"`{name}`" in seed_step, f"the seed step says nothing of {name}"
        if name in created:
            assert "written by the deployment" in seed_step


def test_the_app_insights_secret_is_written_from_the_resource_itself() -> None:
    vault = load(MODULES / "keyvault.bicep")
    (secret,) = [
        r for r in vault.resources if r.type.startswith("Microsoft.KeyVault/vaults/secrets@")
    ]
    assert "value: appInsights.properties.ConnectionString" in secret.body
    assert "parent: vault" in secret.body
    assert "appInsightsName: monitoring.outputs.appInsightsName" in main_module_block("keyvault")
