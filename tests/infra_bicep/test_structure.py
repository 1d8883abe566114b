"""What the platform relies on, read straight from the templates and the parameter files."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from intake_core.adapters.cosmos_store import CONTAINERS
from intake_core.ports.lifetimes import IDEMPOTENCY_KEY_TTL_SECONDS, LEDGER_TTL_SECONDS

from .bicep_values import TemplateValues
from .templates import (
    BICEP_DIR,
    ENVIRONMENTS,
    MAIN,
    Template,
    assigned_params,
    bicep_files,
    literal,
    load,
    param_files,
)

pytestmark = pytest.mark.infra

CONSTRAINTS = {"allowed", "minLength", "maxLength", "minValue", "maxValue"}
SECRET_NAME = re.compile(
    r"(?i)(secret|password|connectionstring|(access|primary|secondary|api|shared|account)key|key$)"
)
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

# Every role the templates may grant, reviewed: data-plane or narrowly scoped roles only.
REVIEWED_ROLES = {
    "00000000-0000-0000-0000-000000000002": "Cosmos DB Built-in Data Contributor",
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": "Azure Service Bus Data Sender",
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "Azure Service Bus Data Receiver",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner (Function host storage only)",
    "4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor (AKS control plane, VNet/route table)",
    "b0d8363b-8ddd-447d-831f-62ca05bff136": "Monitoring Data Reader (Grafana)",
    "43d0d8ad-25c7-4714-9337-8ba259a9fe05": "Monitoring Reader (Grafana)",
    "22926164-76b3-42b3-bc55-97df8dab3e41": "Grafana Admin (admin groups)",
    # Only on the Grafana instance, only for CD's dashboard import: see the test below.
    "a79a5197-3a5c-4973-a920-486035ffd60f": "Grafana Editor (CD, the Grafana instance)",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader (CD, the Grafana instance)",
    "4abbcc35-e782-43d8-92c5-2d3f1bd2253f": "AKS Cluster User (Chaos Studio experiment)",
    # Only on the queue, only for KEDA's scaler identity: see test_chart_needs.py.
    "090c5cfd-751d-490a-894a-3ce6f1109419": "Azure Service Bus Data Owner (KEDA scaler, queue)",
}
REVIEWED_ROLES_BY_NAME = {name: guid for guid, name in REVIEWED_ROLES.items()}
FORBIDDEN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "00000000-0000-0000-0000-000000000001": "Cosmos DB Built-in Data Reader is fine, but unused",
}


def templates() -> list[Template]:
    return [load(path) for path in bicep_files()]


def ids(template: Template) -> str:
    return str(template.path.relative_to(BICEP_DIR))


def resource(template: Template, type_prefix: str) -> str:
    matches = [r.body for r in template.resources if r.type.startswith(type_prefix + "@")]
    assert len(matches) == 1, f"{type_prefix} in {template.path.name}: {len(matches)}"
    return matches[0]


def value_of(body: str, key: str) -> str:
    match = re.search(rf"(?m)^\s*{re.escape(key)}:\s*(.+)$", body)
    assert match, f"{key} not set"
    return match.group(1).strip()


# ---------------------------------------------------------------- parameters
@pytest.mark.parametrize("template", templates(), ids=ids)
def test_every_parameter_is_described_and_constrained(template: Template) -> None:
    assert template.params, "a template without parameters is not expected here"
    for param in template.params:
        assert "description" in param.decorators, f"{param.name} has no @description"
        if param.type in ("bool", "object") and template.path != MAIN:
            continue
        if param.type == "bool":
            continue
        assert CONSTRAINTS & param.decorators.keys(), f"{param.name} has no constraint"


def test_main_has_no_free_form_object_parameters() -> None:
    assert [p.name for p in load(MAIN).params if p.type == "object"] == []


def test_the_only_secure_parameter_is_the_pagerduty_webhook() -> None:
    secure = {p.name for t in templates() for p in t.params if "secure" in p.decorators}
    assert secure == {"pagerDutyWebhookUrl"}
    for template in templates():
        for param in template.params:
            if "secure" in param.decorators:
                assert "=" not in template.source.split(f"param {param.name} string", 1)[1][:3]


def test_main_targets_the_subscription() -> None:
    assert re.search(r"(?m)^targetScope = 'subscription'$", MAIN.read_text())


# ---------------------------------------------------------------- modules
def test_every_module_reference_exists_and_every_module_is_used() -> None:
    referenced: set[Path] = set()
    for template in templates():
        for module in template.modules:
            target = (template.path.parent / module).resolve()
            assert target.is_file(), f"{template.path.name} uses missing {module}"
            referenced.add(target)
    modules = {p.resolve() for p in (BICEP_DIR / "modules").glob("*.bicep")}
    assert modules - referenced == set(), "module files nobody uses"


# ---------------------------------------------------------------- parameter files
def test_one_parameter_file_per_environment() -> None:
    assert sorted(p.name for p in param_files()) == sorted(f"{e}.bicepparam" for e in ENVIRONMENTS)
    for env in ENVIRONMENTS:
        path = BICEP_DIR / "env" / f"{env}.bicepparam"
        assert "using '../main.bicep'" in path.read_text()
        assert literal(path, "environmentName") == env
        assert literal(path, "kubernetesNamespace") == f"onboarding-{env}"  # the chart's namespace


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_parameter_file_sets_exactly_the_parameters_of_main(env: str) -> None:
    declared = {p.name for p in load(MAIN).params}
    assigned = set(assigned_params(BICEP_DIR / "env" / f"{env}.bicepparam"))
    assert assigned - declared == set(), "set but not declared in main.bicep"
    assert declared - assigned == set(), "declared in main.bicep but not set for this environment"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_literal_values_respect_the_declared_allowed_lists(env: str) -> None:
    path = BICEP_DIR / "env" / f"{env}.bicepparam"
    for param in load(MAIN).params:
        allowed = param.decorators.get("allowed")
        raw = assigned_params(path)[param.name]
        if allowed is None or not (raw.startswith("'") or raw.isdigit()):
            continue
        options = re.findall(r"'([^']*)'|(\d+)", allowed.split("(", 1)[1])
        values = {a or b for a, b in options}
        assert str(literal(path, param.name)) in values, f"{param.name} = {raw}"


def test_no_secret_is_written_in_a_parameter_file() -> None:
    for path in param_files():
        assert assigned_params(path)["pagerDutyWebhookUrl"].startswith("readEnvironmentVariable(")
        assert not re.search(r"(?i)(password|secret|key)\s*=\s*'[^']+'", path.read_text())


# ---------------------------------------------------------------- landing zone
LANDING_ZONE_ENV = {"dev": "dev", "staging": "stage", "prod": "prod"}
LANDING_ZONE_VNET = {"dev": "10.0", "staging": "10.1", "prod": "10.2"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_landing_zone_names_follow_the_a10_convention(env: str) -> None:
    path = BICEP_DIR / "env" / f"{env}.bicepparam"
    assert literal(path, "useLandingZone") is True
    assert literal(path, "landingZoneOrg") == "a10corp"
    assert literal(path, "landingZoneEnvironment") == LANDING_ZONE_ENV[env]
    assert literal(path, "sharedResourceGroupName") == "rg-root-iac"
    assert literal(path, "existingRegistryName") == "acra10corpsales"
    assert literal(path, "existingLogAnalyticsWorkspaceName") == "log-a10corp-hq"
    assert literal(path, "location") in ("eastus", "eastus2")
    main = MAIN.read_text()
    assert "var lzStem = '${landingZoneOrg}-sales-${landingZoneEnvironment}'" in main
    for fragment in ("'rg-${lzStem}'", "'vnet-${lzStem}'", "'snet-${lzStem}'", "'id-${lzStem}'"):
        assert fragment in main


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_subnets_match_the_landing_zone_and_do_not_overlap(env: str) -> None:
    path = BICEP_DIR / "env" / f"{env}.bicepparam"
    base = LANDING_ZONE_VNET[env]
    vnet = ipaddress.ip_network(str(literal(path, "vnetAddressPrefix")))
    assert str(vnet) == f"{base}.0.0/16"
    assert literal(path, "aksSubnetPrefix") == f"{base}.0.0/22"
    assert literal(path, "ingressSubnetPrefix") == f"{base}.4.0/26"
    names = ("aks", "ingress", "privateEndpoint", "functions", "firewall")
    subnets = [ipaddress.ip_network(str(literal(path, f"{n}SubnetPrefix"))) for n in names]
    for subnet in subnets:
        assert subnet.subnet_of(vnet)  # type: ignore[arg-type]
    for i, first in enumerate(subnets):
        for second in subnets[i + 1 :]:
            assert not first.overlaps(second), f"{first} overlaps {second}"
    assert ipaddress.ip_network(str(literal(path, "firewallSubnetPrefix"))).prefixlen <= 26


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vm_sizes_are_allowed_by_the_landing_zone_policy(env: str) -> None:
    allowed = {
        "Standard_B1s", "Standard_B1ms", "Standard_B2s", "Standard_B2ms",
        "Standard_D2s_v3", "Standard_D4s_v3", "Standard_D2s_v4", "Standard_D4s_v4",
    }  # fmt: skip
    path = BICEP_DIR / "env" / f"{env}.bicepparam"
    for name in ("aksSystemNodeVmSize", "aksUserNodeVmSize", "aksSpotNodeVmSize"):
        assert literal(path, name) in allowed


def test_names_carry_prefix_environment_region_and_a_unique_suffix() -> None:
    main = MAIN.read_text()
    assert "var stem = '${namePrefix}-${environmentName}-${regionAbbreviations[location]}'" in main
    assert "uniqueString(subscription().id, namePrefix, environmentName, location)" in main
    for global_name in ("cosmos", "serviceBus", "keyVault", "functionApp", "grafana"):
        assert re.search(rf"(?m)^  {global_name}: '[a-z]+-\$\{{globalStem\}}'$", main)


# ---------------------------------------------------------------- tags and secrets
@pytest.mark.parametrize("template", templates(), ids=ids)
def test_every_located_resource_is_tagged(template: Template) -> None:
    for res in template.resources:
        if "location" in res.properties:
            assert "tags" in res.properties, f"{res.symbol} ({res.type}) has no tags"


def test_tags_name_env_app_owner_and_cost_center() -> None:
    block = MAIN.read_text().split("var tags = {", 1)[1].split("}", 1)[0]
    for key in ("env:", "app:", "owner:", "costCenter:", "Environment:"):
        assert key in block


@pytest.mark.parametrize("template", templates(), ids=ids)
def test_no_secret_leaves_through_outputs_or_list_functions(template: Template) -> None:
    assert not re.search(r"\blist(Keys|ConnectionStrings|Secrets|Credentials?)\(", template.source)
    for output in template.outputs:
        assert not SECRET_NAME.search(output), output
    assert "ConnectionString" not in " ".join(
        line for line in template.source.splitlines() if line.startswith("output ")
    )


# ---------------------------------------------------------------- data services
def test_cosmos_is_keyless_and_shaped_as_the_adapter_expects() -> None:
    cosmos = load(BICEP_DIR / "modules" / "cosmos.bicep")
    account = resource(cosmos, "Microsoft.DocumentDB/databaseAccounts")
    assert value_of(account, "disableLocalAuth") == "true"
    assert value_of(account, "publicNetworkAccess") == "'Disabled'"
    assert value_of(account, "type") == "'Continuous'"
    assert "locations: geo ? concat(primaryRegion, secondaryRegion) : primaryRegion" in account
    source = cosmos.source
    assert source.count("isZoneRedundant: zoneRedundant") == 2
    assert "var databaseName = 'intake'" in source
    expected = {
        "submissions": ("/clientId", "-1"),
        "idempotency": ("/key", "idempotencyTtlDays * secondsPerDay"),
        "ledger": ("/eventId", "ledgerTtlDays * secondsPerDay"),
    }
    # Only what the adapter uses: audit chains live in `submissions`, and the relay polls (no
    # change-feed leases).
    assert set(re.findall(r"(?m)^    name: '(\w+)'$", source)) == set(expected)
    for name, (key, ttl) in expected.items():
        block = source.split(f"name: '{name}'", 1)[1]
        assert value_of(block, "partitionKey") == f"'{key}'"
        assert value_of(block, "defaultTtl") == ttl
    assert "name: 'EnableServerless'" in source
    assert "autoscaleSettings" in source


def test_cosmos_ttls_are_those_the_code_applies() -> None:
    """One number of days each, in Bicep: the containers the adapter creates on an emulator get
    the same default TTLs, and the embedded store forgets idempotency keys and ledger entries as
    Cosmos DB does."""
    module = MAIN.read_text().split("module cosmos 'modules/cosmos.bicep'", 1)[1].split("\n}\n")[0]
    passed = {name: int(days) for name, days in re.findall(r"(?m)^\s*(\w+TtlDays): (\d+)$", module)}
    assert passed.keys() == {"idempotencyTtlDays", "ledgerTtlDays"}
    cosmos = load(BICEP_DIR / "modules" / "cosmos.bicep")
    params = {p.name: f"<{p.name}>" for p in cosmos.params} | passed
    containers = TemplateValues(cosmos, params).variable("containers")
    default_ttls = {container["name"]: container["defaultTtl"] for container in containers}

    assert default_ttls["idempotency"] == IDEMPOTENCY_KEY_TTL_SECONDS
    assert default_ttls["ledger"] == LEDGER_TTL_SECONDS
    assert {name: shape.default_ttl for name, shape in CONTAINERS.items()} == {
        name: default_ttls[name] for name in CONTAINERS
    }


def test_cosmos_per_environment_capacity_and_replication() -> None:
    dev, prod = (BICEP_DIR / "env" / f"{e}.bicepparam" for e in ("dev", "prod"))
    assert literal(dev, "cosmosCapacityMode") == "Serverless"
    assert literal(prod, "cosmosCapacityMode") == "Autoscale"
    assert literal(prod, "cosmosGeoReplication") is True
    assert literal(prod, "cosmosZoneRedundant") is True
    assert (literal(prod, "location"), literal(prod, "secondaryLocation")) == ("eastus", "eastus2")


def test_cosmos_data_role_is_scoped_to_the_database_for_three_identities() -> None:
    cosmos = load(BICEP_DIR / "modules" / "cosmos.bicep")
    assignment = resource(cosmos, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert value_of(assignment, "scope") == "'${account.id}/dbs/${databaseName}'"
    block = MAIN.read_text().split("dataContributorPrincipalIds: [", 1)[1].split("]", 1)[0]
    assert block.split() == ["intakeApi.principalId", "adminApi.principalId", "notify.principalId"]


def test_service_bus_is_keyless_and_its_queue_deduplicates_and_dead_letters() -> None:
    bus = load(BICEP_DIR / "modules" / "servicebus.bicep")
    namespace = resource(bus, "Microsoft.ServiceBus/namespaces")
    assert value_of(namespace, "disableLocalAuth") == "true"
    queue = resource(bus, "Microsoft.ServiceBus/namespaces/queues")
    assert value_of(queue, "requiresDuplicateDetection") == "true"
    assert value_of(queue, "duplicateDetectionHistoryTimeWindow") == "'PT10M'"
    assert value_of(queue, "maxDeliveryCount") == "10"
    assert value_of(queue, "deadLetteringOnMessageExpiration") == "true"
    assert value_of(queue, "lockDuration") == "'PT1M'"
    main = MAIN.read_text()
    senders = main.split("senderPrincipalIds: [", 1)[1].split("]", 1)[0].split()
    receivers = main.split("receiverPrincipalIds: [", 1)[1].split("]", 1)[0].split()
    assert senders == ["intakeApi.principalId"]
    # notify consumes; admin-api's identity is the retention job's, which purges dead letters.
    assert receivers == ["notify.principalId", "adminApi.principalId"]


def test_key_vault_is_rbac_only_with_purge_protection() -> None:
    vault = resource(load(BICEP_DIR / "modules" / "keyvault.bicep"), "Microsoft.KeyVault/vaults")
    assert value_of(vault, "enableRbacAuthorization") == "true"
    assert value_of(vault, "enablePurgeProtection") == "true"
    assert value_of(vault, "publicNetworkAccess") == "'Disabled'"


def test_every_other_service_has_local_auth_off() -> None:
    modules = BICEP_DIR / "modules"
    monitoring = load(modules / "monitoring.bicep")
    assert (
        value_of(resource(monitoring, "Microsoft.Insights/components"), "DisableLocalAuth")
        == "true"
    )
    storage = resource(load(modules / "functions.bicep"), "Microsoft.Storage/storageAccounts")
    assert value_of(storage, "allowSharedKeyAccess") == "false"
    redis = resource(load(modules / "redis.bicep"), "Microsoft.Cache/redis")
    assert value_of(redis, "disableAccessKeyAuthentication") == "true"
    aks = resource(load(modules / "aks.bicep"), "Microsoft.ContainerService/managedClusters")
    assert value_of(aks, "disableLocalAccounts") == "true"


# ---------------------------------------------------------------- roles
def test_only_reviewed_roles_are_granted_and_never_owner_or_contributor() -> None:
    for template in templates():
        for guid in GUID.findall(template.source):
            assert guid.lower() not in FORBIDDEN_ROLES, f"{template.path.name}: {guid}"
            assert guid.lower() in REVIEWED_ROLES, f"{template.path.name}: unreviewed {guid}"
        assert not re.search(r"roleDefinitionName|'(Owner|Contributor)'", template.source)


def test_every_role_assignment_names_a_service_principal_or_group() -> None:
    for template in templates():
        for res in template.resources:
            if res.type.startswith("Microsoft.Authorization/roleAssignments@"):
                assert re.search(r"principalType: '(ServicePrincipal|Group)'", res.body), res.symbol


def test_each_workload_identity_trusts_only_its_service_account() -> None:
    identity = load(BICEP_DIR / "modules" / "identity.bicep").source
    assert "subject: 'system:serviceaccount:${namespace}:${workload.serviceAccount}'" in identity
    assert "'api://AzureADTokenExchange'" in identity
    assert "@batchSize(1)" in identity
    main = MAIN.read_text()
    for account in ("intake-ui", "intake-api", "admin-api", "notify"):
        assert f"serviceAccount: 'onboarding-{account}'" in main


def operator_module_block() -> str:
    """What main.bicep passes to operator.bicep."""
    block = MAIN.read_text().split("module operator 'modules/operator.bicep' = {", 1)[1]
    return block.split("\n}\n", 1)[0]


def test_the_operator_identity_trusts_only_its_service_account() -> None:
    """Federated as the workload identities are; test_chart_needs.py holds the subject to the
    account the chart renders in each environment."""
    operator = load(BICEP_DIR / "modules" / "operator.bicep")
    (credential,) = [
        r
        for r in operator.resources
        if r.type.startswith(
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@"
        )
    ]
    assert value_of(credential.body, "parent") == "operator"
    assert value_of(credential.body, "issuer") == "oidcIssuerUrl"
    assert value_of(credential.body, "subject") == "federatedSubject"
    assert "'api://AzureADTokenExchange'" in credential.body
    assert (
        "var federatedSubject = 'system:serviceaccount:${namespace}:${serviceAccount}'"
        in operator.source
    )
    block = operator_module_block()
    assert value_of(block, "oidcIssuerUrl") == "aks.outputs.oidcIssuerUrl"
    assert value_of(block, "namespace") == "kubernetesNamespace"
    assert value_of(block, "serviceAccount") == "'onboarding-operator'"


def test_only_the_operator_identity_may_both_receive_and_send_and_only_on_the_queue() -> None:
    """`intake dlq replay` receives from the dead-letter queue and sends to the queue. The one
    identity with both roles is on-call's operator (operator.bicep), scoped to the queue itself:
    the namespace would also open every other queue or topic added to it later."""
    sender = REVIEWED_ROLES_BY_NAME["Azure Service Bus Data Sender"]
    receiver = REVIEWED_ROLES_BY_NAME["Azure Service Bus Data Receiver"]
    operator = load(BICEP_DIR / "modules" / "operator.bicep")
    assignments = [
        r
        for r in operator.resources
        if r.type.startswith("Microsoft.Authorization/roleAssignments@")
    ]
    assert len(assignments) == 2
    roles = {value_of(r.body, "roleDefinitionId") for r in assignments}
    variables = {
        name: guid
        for name, guid in re.findall(r"(?m)^var (\w+) = '([0-9a-f-]{36})'$", operator.source)
    }
    granted = {variables[re.search(r"roleDefinitions', (\w+)\)", role)[1]] for role in roles}
    assert granted == {sender, receiver}
    for assignment in assignments:
        assert value_of(assignment.body, "scope") == "queue", assignment.symbol
        assert value_of(assignment.body, "principalId") == "operator.properties.principalId"
    (queue,) = [r for r in operator.resources if r.symbol == "queue"]
    assert queue.type.startswith("Microsoft.ServiceBus/namespaces/queues@")
    assert " existing = {" in queue.body.splitlines()[0]  # the queue servicebus.bicep creates
    assert value_of(queue.body, "name") == "queueName"
    block = operator_module_block()
    assert value_of(block, "serviceBusNamespaceName") == "names.serviceBus"
    assert value_of(block, "queueName") == "serviceBus.outputs.queueName"
    # No other template grants either role to anyone but intake-api (Sender), notify and the
    # retention job's admin-api (Receiver): servicebus.bicep, with the principals main.bicep lists.
    for template in templates():
        if template.path.name in ("operator.bicep", "servicebus.bicep"):
            continue
        assert sender not in template.source and receiver not in template.source, template.path


def test_cd_may_edit_dashboards_in_the_grafana_instance_only() -> None:
    """deploy-env.yml imports the dashboard as the environment's CD identity. It holds Grafana
    Editor, and Reader so that `az grafana` can read the instance's endpoint, scoped to that
    instance: on the resource group Reader would read every resource in it."""
    editor = REVIEWED_ROLES_BY_NAME["Grafana Editor (CD, the Grafana instance)"]
    reader = REVIEWED_ROLES_BY_NAME["Reader (CD, the Grafana instance)"]
    monitoring = load(BICEP_DIR / "modules" / "monitoring.bicep")
    variables = {
        name: guid
        for name, guid in re.findall(r"(?m)^var (\w+) = '([0-9a-f-]{36})'$", monitoring.source)
    }
    granted: dict[str, str] = {}
    for assignment in monitoring.resources:
        if not assignment.type.startswith("Microsoft.Authorization/roleAssignments@"):
            continue
        role_id = value_of(assignment.body, "roleDefinitionId")
        role = variables[re.search(r"roleDefinitions', (\w+)\)", role_id)[1]]
        if role not in (editor, reader):
            continue
        assert value_of(assignment.body, "scope") == "grafana", assignment.symbol
        assert value_of(assignment.body, "principalId") == "dashboardPublisherPrincipalId"
        assert value_of(assignment.body, "principalType") == "'ServicePrincipal'"
        assert assignment.body.splitlines()[0].endswith("= if (publishDashboards) {")
        granted[role] = assignment.symbol
    assert set(granted) == {editor, reader}
    (grafana,) = [r for r in monitoring.resources if r.symbol == "grafana"]
    assert grafana.type.startswith("Microsoft.Dashboard/grafana@")
    assert " existing " not in grafana.body.splitlines()[0]  # the instance this module creates
    assert "var publishDashboards = !empty(dashboardPublisherPrincipalId)" in monitoring.source
    # The principal is CD's, which each environment's DEPLOY_PRINCIPAL_ID names.
    module = MAIN.read_text().split("module monitoring 'modules/monitoring.bicep' = {", 1)[1]
    assert value_of(module.split("\n}\n", 1)[0], "dashboardPublisherPrincipalId") == (
        "deployPrincipalId"
    )
    for env in ENVIRONMENTS:
        value = assigned_params(BICEP_DIR / "env" / f"{env}.bicepparam")["deployPrincipalId"]
        assert value == "readEnvironmentVariable('DEPLOY_PRINCIPAL_ID', '')", env
    for template in templates():
        if template.path.name != "monitoring.bicep":
            assert editor not in template.source and reader not in template.source, template.path


# ---------------------------------------------------------------- platform features
def test_aks_has_the_security_and_operations_features() -> None:
    aks = resource(
        load(BICEP_DIR / "modules" / "aks.bicep"), "Microsoft.ContainerService/managedClusters"
    )
    for key, expected in {
        "networkPluginMode": "'overlay'",
        "networkDataplane": "'cilium'",
        "networkPolicy": "'cilium'",
        "enableAzureRBAC": "true",
        "enableSecretRotation": "'true'",
        "upgradeChannel": "'stable'",
        "nodeOSUpgradeChannel": "'NodeImage'",
        "authorizedIPRanges": "apiServerAuthorizedIpRanges",
    }.items():
        assert value_of(aks, key) == expected, key
    for feature in ("oidcIssuerProfile", "workloadIdentity", "defender", "azurepolicy", "omsagent"):
        assert f"{feature}: {{" in aks
    assert aks.count("availabilityZones: zones") == 2


def test_diagnostics_go_to_log_analytics_for_every_data_service() -> None:
    for name in ("aks", "cosmos", "servicebus", "keyvault", "redis", "functions", "frontdoor"):
        source = load(BICEP_DIR / "modules" / f"{name}.bicep").source
        assert "Microsoft.Insights/diagnosticSettings@" in source, name
        assert "workspaceId: logAnalyticsWorkspaceId" in source, name


def test_dev_has_a_budget_and_every_environment_alerts() -> None:
    main = MAIN.read_text()
    assert "module budget 'modules/budget.bicep' = {" in main  # unconditional: every environment
    assert "module alerts 'modules/alerts.bicep' = {" in main
    budget = literal(BICEP_DIR / "env" / "dev.bicepparam", "monthlyBudget")
    assert isinstance(budget, int) and budget <= 500


def test_redis_stays_off_while_the_cache_adapter_cannot_sign_in_with_entra_id() -> None:
    """redis.bicep turns access keys off; the adapter takes only a key in REDIS_URL. A cache
    nobody can open would cost ~16 (staging) to ~410 (prod) a month for nothing."""
    redis = resource(load(BICEP_DIR / "modules" / "redis.bicep"), "Microsoft.Cache/redis")
    assert value_of(redis, "disableAccessKeyAuthentication") == "true"
    for env in ENVIRONMENTS:
        deployed = literal(BICEP_DIR / "env" / f"{env}.bicepparam", "deployRedis")
        assert deployed is False, f"{env}: only once the adapter signs in with Entra ID"
