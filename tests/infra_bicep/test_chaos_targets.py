"""The Chaos Mesh experiments (deploy/chaos) aim at what the Bicep really creates in staging.

A NetworkChaos whose external target names a host that does not exist injects nothing, and the
run "passes". So every external target is either an address range from staging's parameter file
or a placeholder for a deployment output, never a hand-written Azure host name.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
import yaml

from .templates import BICEP_DIR, MAIN, REPO, literal

pytestmark = pytest.mark.infra

CHAOS = REPO / "deploy" / "chaos"
STAGING = BICEP_DIR / "env" / "staging.bicepparam"
# placeholder -> the main.bicep output whose value replaces it
PLACEHOLDERS = {"SERVICEBUS_HOST": "serviceBusFullyQualifiedNamespace"}
PLACEHOLDER = re.compile(r"^\$\{(\w+)\}$")


def experiments() -> dict[str, list[dict[str, Any]]]:
    return {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted(CHAOS.glob("*.yaml"))
    }


def external_targets() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, docs in experiments().items():
        for doc in docs:
            targets = doc.get("spec", {}).get("externalTargets")
            if targets:
                found.setdefault(name, []).extend(targets)
    return found


def test_the_experiments_run_in_staging_s_namespace() -> None:
    namespace = literal(STAGING, "kubernetesNamespace")
    for name, docs in experiments().items():
        for doc in docs:
            assert doc["metadata"]["namespace"] == namespace, name


def test_no_external_target_is_a_hand_written_azure_host_name() -> None:
    targets = external_targets()
    assert set(targets) == {"cosmos-delay.yaml", "servicebus-partition.yaml"}
    for name, listed in targets.items():
        for target in listed:
            assert not re.search(r"\.(azure\.com|windows\.net)$", target), (name, target)


def test_cosmos_is_delayed_where_staging_reaches_it() -> None:
    """Cosmos DB has public access off: the pods reach it through the private endpoint subnet."""
    (target,) = external_targets()["cosmos-delay.yaml"]
    assert ipaddress.ip_network(target) == ipaddress.ip_network(
        str(literal(STAGING, "privateEndpointSubnetPrefix"))
    )
    cosmos = (BICEP_DIR / "modules" / "cosmos.bicep").read_text()
    assert "publicNetworkAccess: 'Disabled'" in cosmos
    assert "name: 'cosmos'" in MAIN.read_text().split("var privateEndpoints", 1)[1]


def test_service_bus_is_a_placeholder_for_the_namespace_the_bicep_creates() -> None:
    (target,) = external_targets()["servicebus-partition.yaml"]
    match = PLACEHOLDER.match(target)
    assert match, target
    output = PLACEHOLDERS[match.group(1)]
    main = MAIN.read_text()
    assert re.search(rf"(?m)^output {output} string = serviceBus\.outputs\.", main)
    assert "serviceBus: 'sbns-${globalStem}'" in main
    bus = (BICEP_DIR / "modules" / "servicebus.bicep").read_text()
    assert (
        "output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'" in bus
    )
    header = (CHAOS / "servicebus-partition.yaml").read_text().split("apiVersion:", 1)[0]
    assert f"{output}" in header and f"${{{match.group(1)}}}" in header
