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

from .bicep_values import TemplateValues
from .templates import BICEP_DIR, MAIN, REPO, assigned_params, load

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


# ---------------------------------------------------------------- AKS add-ons (finding 7)
def cluster_body() -> str:
    aks = load(MODULES / "aks.bicep")
    (cluster,) = [
        r for r in aks.resources if r.type.startswith("Microsoft.ContainerService/managedClusters@")
    ]
    return cluster.body


def test_the_cluster_runs_the_ingress_class_the_chart_asks_for() -> None:
    assert chart_values()["ingress"]["className"] == "webapprouting.kubernetes.azure.com"
    body = cluster_body()
    routing = body.split("ingressProfile: {", 1)[1].split("webAppRouting: {", 1)[1]
    assert routing.split("}", 1)[0].split() == ["enabled:", "true"]


def test_the_cluster_runs_keda_for_the_scaled_object_of_notify() -> None:
    assert chart_values()["services"]["notify"]["keda"] is not None
    body = cluster_body()
    keda = body.split("workloadAutoScalerProfile: {", 1)[1].split("keda: {", 1)[1]
    assert keda.split("}", 1)[0].split() == ["enabled:", "true"]


# ---------------------------------------------------------------- KEDA's identity (finding 8)
def test_keda_reads_the_queue_with_its_own_identity_federated_with_its_operator() -> None:
    """The managed add-on runs the operator as kube-system/keda-operator; the chart's
    TriggerAuthentication (provider azure-workload) names the identity in keda.identityId."""
    keda_template = (CHART / "templates" / "keda.yaml").read_text()
    assert "provider: azure-workload" in keda_template
    assert "$svc.keda.identityId" in keda_template
    assert "identityId" in chart_values()["services"]["notify"]["keda"]

    identity = load(MODULES / "identity.bicep").source
    assert "subject: 'system:serviceaccount:${replace(kedaOperatorServiceAccount, '/', ':')}'" in (
        identity
    )
    assert "kedaOperatorServiceAccount: 'kube-system/keda-operator'" in main_module_block(
        "identity"
    )
    assert re.search(
        r"(?m)^output kedaScalerClientId string = identities\.outputs\.scaler\.clientId$",
        MAIN.read_text(),
    )


def test_only_the_scaler_identity_holds_data_owner_and_only_on_the_queue() -> None:
    """Data Owner carries the Manage claim KEDA's queue-count read needs; nothing else gets it,
    so notify's pods and its Function keep Receiver alone."""
    owner = "090c5cfd-751d-490a-894a-3ce6f1109419"
    holders = [path.name for path in sorted(MODULES.glob("*.bicep")) if owner in path.read_text()]
    assert holders == ["servicebus.bicep"]
    bus = load(MODULES / "servicebus.bicep")
    owners = [r for r in bus.resources if "dataOwner" in r.body]
    assert len(owners) == 1
    assert "scope: queue" in owners[0].body
    assert "for principalId in queueScalerPrincipalIds" in owners[0].body
    block = main_module_block("servicebus")
    assert listed(block, "queueScalerPrincipalIds") == ["identities.outputs.scaler.principalId"]
    assert listed(block, "receiverPrincipalIds") == ["notify.principalId", "adminApi.principalId"]


# ---------------------------------------------------------------- the retention job (privacy 4)
def workload_identity_symbols() -> dict[str, str]:
    """main.bicep's symbol for each workload's identity (`var adminApi = identities.outputs
    .identities[2]`), by the Kubernetes service account that identity is federated with."""
    source = MAIN.read_text()
    workloads = source.split("var workloads = [", 1)[1].split("\n]\n", 1)[0]
    accounts = re.findall(r"serviceAccount: '([^']+)'", workloads)
    symbols = dict(
        (int(index), symbol)
        for symbol, index in re.findall(
            r"(?m)^var (\w+) = identities\.outputs\.identities\[(\d+)\]$", source
        )
    )
    return {account: symbols[i] for i, account in enumerate(accounts)}


def test_the_retention_job_runs_as_an_identity_that_may_purge_dead_letters() -> None:
    """After its erasures the CronJob receives from the queue's dead-letter queue, checks each
    message's record in the store and completes those that must not be kept. It runs as
    admin-api's account, so admin-api's identity needs the Cosmos DB data role and Service Bus
    Data Receiver on the queue; Sender it must not get (only the operator may replay)."""
    template = (CHART / "templates" / "retention-cronjob.yaml").read_text()
    assert "serviceAccountName: {{ $adminName }}" in template
    assert '"component" $admin.component' in template and "$admin := .Values.services.adminApi" in (
        template
    )
    assert "DEAD_LETTER_MAX_AGE_DAYS" in template
    component = chart_values()["services"]["adminApi"]["component"]
    symbol = workload_identity_symbols()[f"onboarding-{component}"]
    assert symbol == "adminApi"
    bus = main_module_block("servicebus")
    assert f"{symbol}.principalId" in listed(bus, "receiverPrincipalIds")
    assert f"{symbol}.principalId" not in listed(bus, "senderPrincipalIds")
    cosmos = main_module_block("cosmos")
    assert f"{symbol}.principalId" in listed(cosmos, "dataContributorPrincipalIds")


# ---------------------------------------------------------------- on-call's operator (SRE review B2)
@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_operator_identity_trusts_the_account_the_chart_renders(env: str) -> None:
    """On-call's dead-letter Jobs run as the chart's <fullname>-operator in the environment's
    namespace; a federated subject naming any other account leaves them without a token."""
    values = yaml.safe_load((CHART / f"values-{env}.yaml").read_text())
    assert values["operator"]["enabled"] is True
    assert values["operator"]["workloadIdentityClientId"]
    account = f"{values['fullnameOverride']}-operator"
    block = main_module_block("operator")
    operator = load(MODULES / "operator.bicep")
    params = {p.name: f"<{p.name}>" for p in operator.params}
    params["namespace"] = assigned_params(BICEP_DIR / "env" / f"{env}.bicepparam")[
        "kubernetesNamespace"
    ].strip("'")
    params["serviceAccount"] = re.search(r"(?m)^    serviceAccount: '([^']+)'$", block)[1]
    subject = TemplateValues(operator, params).variable("federatedSubject")
    assert subject == f"system:serviceaccount:onboarding-{env}:{account}"
    assert re.search(
        r"(?m)^output operatorClientId string = operator\.outputs\.clientId$", MAIN.read_text()
    )


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_runbooks_name_each_environments_cluster_as_the_bicep_does(env: str) -> None:
    """On-call copies the namespace, resource group and cluster of the dead-letter commands from
    the runbooks: they are main.bicep's names (rg-<lzStem>, aks-<stem>) for that environment."""
    source = MAIN.read_text()
    assert "resourceGroup: useLandingZone ? 'rg-${lzStem}' : 'rg-${stem}'" in source
    assert "aks: 'aks-${stem}'" in source
    main = load(MAIN)
    params = {p.name: f"<{p.name}>" for p in main.params}
    assigned = assigned_params(BICEP_DIR / "env" / f"{env}.bicepparam")
    for name in ("namePrefix", "environmentName", "location", "landingZoneOrg"):
        params[name] = assigned[name].strip("'")
    params["landingZoneEnvironment"] = assigned["landingZoneEnvironment"].strip("'")
    assert assigned["useLandingZone"] == "true"
    values = TemplateValues(main, params)
    namespace = assigned["kubernetesNamespace"].strip("'")
    group, cluster = f"rg-{values.variable('lzStem')}", f"aks-{values.variable('stem')}"
    runbooks = (REPO / "docs" / "runbooks.md").read_text()
    assigned_line = f"NS={namespace} RG={group} AKS={cluster}"
    named = f"{env}: {namespace}, {group}, {cluster}"
    assert assigned_line in runbooks or named in runbooks, (assigned_line, named)


# ---------------------------------------------------------------- Front Door's origin (finding 17)
def test_what_the_bicep_says_of_the_x_azure_fdid_check_is_what_the_chart_does() -> None:
    """The origin is public: Front Door's WAF holds only if the ingress refuses requests without
    this profile's X-Azure-FDID. Saying it is checked while nothing checks it hides the bypass."""
    chart_checks = (
        any(
            "x-azure-fdid" in path.read_text().lower()
            for path in (CHART / "templates").glob("*.yaml")
        )
        or "x-azure-fdid" in (CHART / "values.yaml").read_text().lower()
    )
    frontdoor = (MODULES / "frontdoor.bicep").read_text()
    claims = [line for line in frontdoor.splitlines() if "X-Azure-FDID" in line]
    assert claims
    assert not any(re.search(r"\bchecks\b", line) for line in claims)
    if chart_checks:
        assert "ingress.frontDoor.id" in frontdoor and "not done yet" not in frontdoor
        assert "nothing checks it yet" not in DEPLOY_AZURE_DOC.read_text()
    else:
        assert "not done yet" in frontdoor
        assert "nothing checks it yet" in DEPLOY_AZURE_DOC.read_text()


def test_the_staff_allow_list_is_front_doors_not_the_ingresss() -> None:
    # Behind Front Door the ingress sees Front Door's addresses: an ingress allow-list would
    # refuse every staff member. The WAF matches the address that connected to it (SocketAddr;
    # RemoteAddr would trust a client's X-Forwarded-For).
    frontdoor = (MODULES / "frontdoor.bicep").read_text()
    assert "matchVariable: 'SocketAddr'" in frontdoor
    assert "matchValue: staffAllowedSourceRanges" in frontdoor
    assert "staffAllowedSourceRanges: staffAllowedSourceRanges" in main_module_block("frontdoor")
    for env in ("staging", "prod"):
        ranges = assigned_params(BICEP_DIR / "env" / f"{env}.bicepparam")[
            "staffAllowedSourceRanges"
        ]
        assert re.fullmatch(r"\['\d[\d./]*'(, '\d[\d./]*')*\]", ranges), ranges
        values = yaml.safe_load((CHART / f"values-{env}.yaml").read_text())
        assert values["ingress"]["frontDoor"]["id"]
        assert not values["ingress"].get("admin", {}).get("allowedSourceRanges")
