"""The onboarding chart: lint, schema, Kubernetes validation and the security properties."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra.toolbox import APP_COMPONENTS, CHART, RENDERINGS, ROOT, Rendering, helm_args, run

from intake_core.ports.lifetimes import LEDGER_TTL_SECONDS
from intake_ui.app import create_app
from intake_ui.settings import IntakeUiSettings

pytestmark = pytest.mark.infra

VALUES_FILES = sorted(p.name for p in CHART.glob("values*.yaml"))
# Readiness never waits on a dependency every replica shares (the store, the bus): when it
# fails, all replicas would leave the Service together, and clients would get refused
# connections instead of 503 + Retry-After. /readyz reports the dependencies to people and
# monitors (and to the deploy's smoke test).
PROBES = {
    "intake-ui": ("/healthz", "/healthz", "/healthz"),
    "intake-api": ("/healthz", "/healthz", "/healthz"),
    "admin-api": ("/healthz", "/healthz", "/healthz"),
    "notify": ("/healthz", "/healthz", "/healthz"),
}


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def app_deployments(r: Rendering) -> list[dict[str, Any]]:
    return [
        d
        for d in r.of_kind("Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] in APP_COMPONENTS
    ]


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_helm_lint_strict(helm: Path, name: str) -> None:
    result = run([helm, "lint", "--strict", CHART, *helm_args(name)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_values_file_is_rendered() -> None:
    assert {f.removesuffix(".yaml") for f in VALUES_FILES} <= set(RENDERINGS)
    assert {
        "values-dev.yaml",
        "values-staging.yaml",
        "values-prod.yaml",
        "values-kind.yaml",
    } <= set(VALUES_FILES)


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.33.0"])
def test_kubernetes_validate_strict(rendered_dir: Path, kube_version: str) -> None:
    files = sorted(rendered_dir.glob("*.yaml"))
    extra = [ROOT / "deploy" / "kind" / "namespace.yaml"]
    result = run(["kubernetes-validate", "--strict", "--quiet", "-k", kube_version, *files, *extra])
    errors = [line for line in result.stdout.splitlines() if not line.startswith("WARN")]
    assert result.returncode == 0 and not errors, result.stdout + result.stderr
    # Only the CRDs (KEDA, Secrets Store CSI, Prometheus Operator) may lack a schema.
    unknown = set(re.findall(r"for kind (\w+) with", result.stdout))
    assert unknown <= {
        "PrometheusRule",
        "ScaledObject",
        "TriggerAuthentication",
        "SecretProviderClass",
        "ServiceMonitor",
    }


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_app_containers_are_hardened(renderings: dict[str, Rendering], name: str) -> None:
    r = renderings[name]
    deployments = app_deployments(r)
    assert deployments
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        where = f"{name}/{d['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["automountServiceAccountToken"] is False, where
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes["tmp"], where
        for c in containers(d):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, where
            assert sc["runAsUser"] >= 10000, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), where
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            assert {"/tmp", "/data"} <= mounts, where


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_every_container_drops_privileges(renderings: dict[str, Rendering], name: str) -> None:
    """Emulators included: they may need root, never privilege escalation or capabilities."""
    for d in renderings[name].of_kind("Deployment"):
        for c in containers(d):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert sc.get("privileged", False) is False
            assert c["resources"]["limits"]["memory"]


@pytest.mark.parametrize("name", ["values", "values-prod", "values-kind"])
def test_probes_on_the_right_paths(renderings: dict[str, Rendering], name: str) -> None:
    for component, (startup, liveness, readiness) in PROBES.items():
        (c,) = renderings[name].deployment(component)["spec"]["template"]["spec"]["containers"]
        assert c["startupProbe"]["httpGet"]["path"] == startup
        assert c["livenessProbe"]["httpGet"]["path"] == liveness
        assert c["readinessProbe"]["httpGet"]["path"] == readiness
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert c[probe]["httpGet"]["port"] == "http"
        assert c["ports"] == [
            {"name": "http", "containerPort": c["ports"][0]["containerPort"], "protocol": "TCP"}
        ]


def test_prod_runs_three_replicas_or_more_spread_over_zones(
    renderings: dict[str, Rendering],
) -> None:
    r = renderings["values-prod"]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in r.of_kind("HorizontalPodAutoscaler")}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in r.of_kind("ScaledObject")}
    for d in app_deployments(r):
        name = d["metadata"]["name"]
        if name in hpas:
            floor = hpas[name]["spec"]["minReplicas"]
            assert "replicas" not in d["spec"], "the HPA owns replicas"
        elif name in scaled:
            floor = scaled[name]["spec"]["minReplicaCount"]
            assert "replicas" not in d["spec"], "KEDA owns replicas"
        else:
            floor = d["spec"]["replicas"]
        assert floor >= 3, name
        spread = {
            t["topologyKey"]: t for t in d["spec"]["template"]["spec"]["topologySpreadConstraints"]
        }
        assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "DoNotSchedule"
        assert "kubernetes.io/hostname" in spread
        selector = d["spec"]["selector"]["matchLabels"]
        for t in spread.values():
            assert t["labelSelector"]["matchLabels"] == selector


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_images_are_pinned(renderings: dict[str, Rendering], name: str) -> None:
    for d in renderings[name].of_kind("Deployment"):
        for c in containers(d):
            image = c["image"]
            assert "@sha256:" in image or re.search(r":[\w.-]+$", image), image
            assert not image.endswith(":latest"), image


def test_prod_images_come_from_the_registry(renderings: dict[str, Rendering]) -> None:
    for d in app_deployments(renderings["values-prod"]):
        assert d["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
            "cronboardingprod.azurecr.io/onboarding/"
        )


def test_names_are_release_prefixed(helm: Path) -> None:
    result = run(
        [helm, "template", "acme", CHART, *helm_args("values"), "--set", "ingress.enabled=true"]
    )
    assert result.returncode == 0, result.stderr
    for doc in yaml.safe_load_all(result.stdout):
        if doc:
            assert doc["metadata"]["name"].startswith("acme-onboarding"), doc["metadata"]["name"]
            assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "acme"


def test_workload_identity_and_key_vault_wiring(renderings: dict[str, Rendering]) -> None:
    r = renderings["values-dev"]
    accounts = {sa["metadata"]["name"]: sa for sa in r.of_kind("ServiceAccount")}
    classes = {c["metadata"]["name"]: c for c in r.of_kind("SecretProviderClass")}
    assert classes, "Key Vault is enabled in dev"
    for d in app_deployments(r):
        pod = d["spec"]["template"]
        assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        sa = accounts[pod["spec"]["serviceAccountName"]]
        client_id = sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
        assert re.fullmatch(r"[0-9a-f-]{36}", client_id)
        name = d["metadata"]["name"]
        secret_env = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in pod["spec"]["containers"][0]["env"]
            if "valueFrom" in e
        }
        if name not in classes:
            assert not secret_env, name
            continue
        spc = classes[name]
        assert spc["spec"]["parameters"]["clientID"] == client_id
        assert spc["spec"]["parameters"]["keyvaultName"] == "kv-onboarding-dev"
        (synced,) = spc["spec"]["secretObjects"]
        assert {k["key"] for k in synced["data"]} == set(secret_env)
        assert {ref["name"] for ref in secret_env.values()} == {synced["secretName"]}
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes["keyvault"]["csi"]["volumeAttributes"]["secretProviderClass"] == name
    ui_env = {
        e["name"]
        for e in r.deployment("intake-ui")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "UI_SESSION_SECRET" in ui_env and "IP_HASH_SALT" not in ui_env


def test_network_policies_allow_only_the_needed_flows(renderings: dict[str, Rendering]) -> None:
    r = renderings["values-prod"]
    policies = {p["metadata"]["name"]: p["spec"] for p in r.of_kind("NetworkPolicy")}
    deny = policies["onboarding-default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["onboarding-allow-dns"]["egress"][0]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}

    def peers(spec: dict[str, Any], direction: str) -> set[str]:
        found = set()
        for rule in spec.get(direction) or []:
            for peer in rule.get("from" if direction == "ingress" else "to", []):
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                if "namespaceSelector" in peer:
                    found.add("namespace:" + str(peer["namespaceSelector"]["matchLabels"]))
                elif "ipBlock" in peer:
                    found.add("ip:" + peer["ipBlock"]["cidr"])
                else:
                    found.add(labels["app.kubernetes.io/component"])
        return found

    monitoring = "namespace:{'kubernetes.io/metadata.name': 'kube-system'}"
    controller = "namespace:{'kubernetes.io/metadata.name': 'app-routing-system'}"
    assert peers(policies["onboarding-intake-ui"], "ingress") == {controller, monitoring}
    assert peers(policies["onboarding-intake-api"], "ingress") == {"intake-ui", monitoring}
    assert peers(policies["onboarding-admin-api"], "ingress") == {"intake-ui", monitoring}
    assert peers(policies["onboarding-notify"], "ingress") == {monitoring}
    assert peers(policies["onboarding-intake-ui"], "egress") == {
        "intake-api",
        "admin-api",
        "ip:10.2.5.0/24",
        "ip:0.0.0.0/0",
    }
    assert peers(policies["onboarding-notify"], "egress") == {"ip:10.2.5.0/24", "ip:0.0.0.0/0"}


def test_kind_policies_reach_the_emulators_only(renderings: dict[str, Rendering]) -> None:
    r = renderings["values-kind"]
    policies = {p["metadata"]["name"]: p["spec"] for p in r.of_kind("NetworkPolicy")}
    notify_egress = policies["onboarding-notify"]["egress"]
    targets = {
        rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in notify_egress
    }
    assert targets == {"cosmos-emulator", "servicebus-emulator"}
    sql_in = policies["onboarding-servicebus-sql"]["ingress"][0]["from"][0]["podSelector"]
    assert sql_in["matchLabels"]["app.kubernetes.io/component"] == "servicebus-emulator"


def test_ingress_tls_and_stricter_admin(renderings: dict[str, Rendering]) -> None:
    r = renderings["values-prod"]
    public = r.named("Ingress", "onboarding-intake-ui")
    admin = r.named("Ingress", "onboarding-intake-ui-admin")
    assert public["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert "cert-manager.io/cluster-issuer" not in admin["metadata"]["annotations"]
    assert public["spec"]["tls"] == admin["spec"]["tls"]
    assert public["spec"]["tls"][0]["hosts"] == ["onboarding.example.com"]
    assert admin["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/admin"
    # Behind Front Door the ingress sees Front Door's addresses: the staff allow-list is the
    # WAF's (infra/bicep staffAllowedSourceRanges), and an ingress allow-list would shut staff out.
    assert (
        "nginx.ingress.kubernetes.io/whitelist-source-range" not in admin["metadata"]["annotations"]
    )


def test_an_ingress_allow_list_behind_front_door_is_refused(helm: Path) -> None:
    result = run(
        [helm, "template", "onboarding", CHART, "-f", str(CHART / "values-prod.yaml"),
         "--set", "ingress.admin.allowedSourceRanges={203.0.113.0/24}"]
    )  # fmt: skip
    assert result.returncode != 0
    assert "staffAllowedSourceRanges" in result.stderr


def test_an_ingress_allow_list_without_front_door_is_kept(helm: Path) -> None:
    result = run(
        [helm, "template", "onboarding", CHART, "--set", "ingress.enabled=true",
         "--set", "image.tag=0123456789abcdef0123456789abcdef01234567",
         "--set", "ingress.host=onboarding.example.com",
         "--set", "ingress.admin.allowedSourceRanges={203.0.113.0/24}"]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert 'whitelist-source-range: "203.0.113.0/24"' in result.stdout


def test_every_service_is_scraped_and_the_ui_metrics_never_leave_the_cluster(
    renderings: dict[str, Rendering],
) -> None:
    """The UI serves /metrics on the port the Ingress routes to: a more specific Ingress for the
    same host refuses it to every address, while Prometheus scrapes the Service directly."""
    r = renderings["values-prod"]
    monitors = r.of_kind("ServiceMonitor")
    scraped = {m["metadata"]["labels"]["app.kubernetes.io/component"] for m in monitors}
    assert scraped == set(APP_COMPONENTS)
    assert all(m["spec"]["endpoints"][0]["path"] == "/metrics" for m in monitors)

    public = r.named("Ingress", "onboarding-intake-ui")
    internal = r.named("Ingress", "onboarding-intake-ui-internal")
    deny = internal["metadata"]["annotations"]["nginx.ingress.kubernetes.io/denylist-source-range"]
    assert set(deny.split(",")) == {"0.0.0.0/0", "::/0"}
    assert internal["spec"]["tls"] == public["spec"]["tls"]
    assert internal["spec"]["ingressClassName"] == public["spec"]["ingressClassName"]
    (rule,) = internal["spec"]["rules"]
    assert rule["host"] == public["spec"]["rules"][0]["host"]
    refused = {(path["path"], path["pathType"]) for path in rule["http"]["paths"]}
    assert ("/metrics", "Prefix") in refused

    ui = create_app(IntakeUiSettings(environment="test"))
    assert "/metrics" in {getattr(route, "path", None) for route in ui.routes}


def test_the_schema_keeps_metrics_internal(helm: Path) -> None:
    result = run(
        [helm, "lint", "--strict", CHART, "--set", "ingress.enabled=true",
         "--set", "ingress.internalPaths={/debug}"]
    )  # fmt: skip
    assert result.returncode != 0, "an Ingress that lets /metrics through was accepted"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


def test_keda_scales_notify_with_workload_identity(renderings: dict[str, Rendering]) -> None:
    r = renderings["values-prod"]
    (scaled,) = r.of_kind("ScaledObject")
    (auth,) = r.of_kind("TriggerAuthentication")
    (trigger,) = scaled["spec"]["triggers"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "onboarding-notify"
    assert trigger["type"] == "azure-servicebus"
    assert trigger["metadata"]["namespace"] == "sb-onboarding-prod"
    assert trigger["metadata"]["queueName"] == "submissions"
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert auth["spec"]["podIdentity"]["provider"] == "azure-workload"
    hpa_targets = {
        h["spec"]["scaleTargetRef"]["name"] for h in r.of_kind("HorizontalPodAutoscaler")
    }
    assert "onboarding-notify" not in hpa_targets, "KEDA and an HPA would fight"


def test_pdbs_never_block_a_drain(renderings: dict[str, Rendering]) -> None:
    pdbs = renderings["values"].of_kind("PodDisruptionBudget")
    assert len(pdbs) == len(APP_COMPONENTS)
    assert all(p["spec"]["maxUnavailable"] == 1 for p in pdbs)
    assert not renderings["switches-off"].of_kind("PodDisruptionBudget")


def test_configmap_wires_the_services_together(renderings: dict[str, Rendering]) -> None:
    data = renderings["values-kind"].named("ConfigMap", "onboarding-config")["data"]
    assert data["INTAKE_API_URL"] == "http://onboarding-intake-api:8001"
    assert data["ADMIN_API_URL"] == "http://onboarding-admin-api:8002"
    assert data["COSMOS_ENDPOINT"] == "http://onboarding-cosmos-emulator:8081/"
    assert data["STORE"] == "cosmos" and data["BUS"] == "servicebus"
    assert data["NOTIFY_METRICS_HOST"] == "0.0.0.0"
    services = {s["metadata"]["name"]: s for s in renderings["values-kind"].of_kind("Service")}
    assert services["onboarding-intake-api"]["spec"]["ports"][0]["port"] == 8001
    prod = renderings["values-prod"].named("ConfigMap", "onboarding-config")["data"]
    assert prod["ENVIRONMENT"] == "prod" and prod["AUTH_ISSUER"].startswith("https://")


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_environments_with_the_app_insights_secret_export_their_traces(
    renderings: dict[str, Rendering], name: str
) -> None:
    r = renderings[name]
    exporter = r.named("ConfigMap", "onboarding-config")["data"]["OTEL_EXPORTER"]
    mounted = {
        e["name"]
        for d in app_deployments(r)
        for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    if "APPLICATIONINSIGHTS_CONNECTION_STRING" in mounted:
        assert exporter == "azuremonitor", name
    else:
        assert exporter == "none", name


@pytest.mark.parametrize("name", ["values", "values-kind", "values-kind-embedded"])
def test_dev_setups_share_one_data_volume(renderings: dict[str, Rendering], name: str) -> None:
    """The store and queue (sqlite/local), the dev issuer's key (the UI signs staff in with it,
    admin-api checks its signature) and the emails the UI's dev mailbox lists all live in /data:
    every service must see the same one."""
    r = renderings[name]
    (pvc,) = r.of_kind("PersistentVolumeClaim")
    for component in APP_COMPONENTS:
        volumes = r.deployment(component)["spec"]["template"]["spec"]["volumes"]
        data = next(v for v in volumes if v["name"] == "data")
        assert data["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"], component
    if name == "values-kind-embedded":
        assert not [d for d in r.of_kind("Deployment") if "emulator" in d["metadata"]["name"]]


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_nothing_is_shared_through_a_disk_in_azure(
    renderings: dict[str, Rendering], name: str
) -> None:
    assert not renderings[name].of_kind("PersistentVolumeClaim")


BAD_VALUES = {
    "latest tag": ["--set", "image.tag=latest"],
    "unknown key": ["--set", "replicaCount=3"],
    "secret in env": ["--set", "services.intakeApi.env.IP_HASH_SALT=oops"],
    "prod with emulator": [
        "-f",
        str(CHART / "values-prod.yaml"),
        "--set",
        "cosmosEmulator.enabled=true",
    ],
    "prod without key vault": [
        "-f",
        str(CHART / "values-prod.yaml"),
        "--set",
        "azure.keyVault.enabled=false",
    ],
    "keda without service bus": ["--set", "services.notify.keda.enabled=true"],
    "no limits": ["--set", "services.notify.resources.limits=null"],
    "bad environment": ["--set", "environment=production"],
    "unknown trace exporter": ["--set", "config.otelExporter=jaeger"],
    "sqlite without a shared volume": [
        "-f",
        str(CHART / "values-kind.yaml"),
        "-f",
        str(ROOT / "deploy" / "kind" / "values-embedded.yaml"),
        "--set",
        "embedded.persistence.enabled=false",
    ],
    "dev issuer and file mailer without a shared volume": [
        "-f",
        str(CHART / "values-kind.yaml"),
        "--set",
        "embedded.persistence.enabled=false",
    ],
    "a shared disk in azure": [
        "-f",
        str(CHART / "values-prod.yaml"),
        "--set",
        "embedded.persistence.enabled=true",
    ],
    "an operator account without its identity": [
        "-f",
        str(CHART / "values-prod.yaml"),
        "--set",
        "operator.workloadIdentityClientId=",
    ],
    "dead letters kept longer than the notify ledger": [
        "--set",
        "retention.deadLetterMaxAgeDays=31",
    ],
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_refuses_bad_values(helm: Path, case: str) -> None:
    result = run([helm, "lint", "--strict", CHART, *BAD_VALUES[case]])
    assert result.returncode != 0, f"{case} was accepted"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|apikey|accountkey|sas|connectionstring)$", re.I
)
SECRET_TEXT = re.compile(
    r"(SharedAccessKey=[^;]+|AccountKey=|-----BEGIN|InstrumentationKey=|[A-Za-z0-9+/]{40,}={0,2}$)"
)


def is_commit_tag(path: str, value: str) -> bool:
    """An image tag that is a git commit SHA (CD writes them into the env files) is no secret."""
    return path.endswith(".tag") and re.fullmatch(r"[0-9a-f]{40}", value) is not None


def secret_like(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if SECRET_KEY.search(str(key)) and value not in ("", None, {}, []):
                found.append(where)
            found += secret_like(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += secret_like(value, f"{path}[{i}]")
    elif isinstance(node, str) and SECRET_TEXT.search(node) and not is_commit_tag(path, node):
        found.append(f"{path}={node[:12]}…")
    return found


@pytest.mark.parametrize(
    "values_file",
    [*VALUES_FILES, "../../deploy/kind/values-embedded.yaml"],
)
def test_no_secrets_in_values(values_file: str) -> None:
    values = yaml.safe_load((CHART / values_file).read_text())
    assert secret_like(values) == []


def test_secret_scan_catches_a_secret() -> None:
    """The scan above is only worth something if it can fail."""
    assert secret_like({"a": {"sessionSecret": "x"}}) == [".a.sessionSecret"]
    assert secret_like({"c": "Endpoint=sb://x;SharedAccessKey=abc;"})
    assert secret_like({"image": {"tag": "a" * 40}}) == []
    assert secret_like({"image": {"digest": "A" * 40}})


BICEP = ROOT / "infra" / "bicep"


def bicep_var(module: str, name: str) -> str:
    """A string variable of an infra/bicep module: ``var <name> = '<value>'``."""
    text = (BICEP / "modules" / module).read_text()
    match = re.search(rf"^var {name} = '([^']*)'$", text, re.M)
    assert match, f"{name} in {module}"
    return match.group(1)


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_the_services_open_the_database_the_bicep_creates(
    renderings: dict[str, Rendering], name: str
) -> None:
    """The data roles are scoped to /dbs/<that name>, and the adapter creates no database with
    workload identity: any other name is a 403 on every store call."""
    data = renderings[name].named("ConfigMap", "onboarding-config")["data"]
    assert data["COSMOS_DATABASE"] == bicep_var("cosmos.bicep", "databaseName")


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_each_workload_has_its_own_identity(renderings: dict[str, Rendering], name: str) -> None:
    """infra/bicep federates each identity with one service account only: a shared client id
    would leave every other service account without a token."""
    r = renderings[name]
    ids = {
        sa["metadata"]["name"]: sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
        for sa in r.of_kind("ServiceAccount")
    }
    # On-call's operator account too: its identity may receive and send, which no workload's may.
    assert set(ids) == {f"onboarding-{c}" for c in (*APP_COMPONENTS, "operator")}
    assert len(set(ids.values())) == len(ids), ids
    for spc in r.of_kind("SecretProviderClass"):
        assert spc["spec"]["parameters"]["clientID"] == ids[spc["metadata"]["name"]]
    (auth,) = r.of_kind("TriggerAuthentication")
    scaler = auth["spec"]["podIdentity"]["identityId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", scaler) and scaler not in ids.values()


def test_the_schema_refuses_workload_identity_without_client_ids(helm: Path) -> None:
    result = run(
        [helm, "lint", "--strict", CHART, "-f", CHART / "values-prod.yaml",
         "--set", "services.adminApi.workloadIdentityClientId="]
    )  # fmt: skip
    assert result.returncode != 0, "admin-api would get no token"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


def bicep_param(env: str, name: str) -> str:
    text = (BICEP / "env" / f"{env}.bicepparam").read_text()
    match = re.search(rf"^param {name} = '([^']*)'$", text, re.M)
    assert match, f"{name} in {env}.bicepparam"
    return match.group(1)


def egress_to(policy: dict[str, Any], address: str, port: int) -> bool:
    """Whether one of the policy's ipBlock egress rules lets ``address`` out on ``port``."""
    ip = ipaddress.ip_address(address)
    for rule in policy["spec"].get("egress") or []:
        if {"protocol": "TCP", "port": port} not in rule.get("ports", []):
            continue
        for peer in rule.get("to", []):
            block = peer.get("ipBlock")
            if not block or ip not in ipaddress.ip_network(block["cidr"]):
                continue
            if not any(ip in ipaddress.ip_network(c) for c in block.get("except", [])):
                return True
    return False


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_services_reach_the_private_endpoints_and_entra_id(
    renderings: dict[str, Rendering], env: str
) -> None:
    """Cosmos DB and Key Vault answer on private endpoints only; Entra ID (every workload
    identity token), ACS and App Insights are public. Pod and service ranges stay out."""
    r = renderings[f"values-{env}"]
    subnet = ipaddress.ip_network(bicep_param(env, "privateEndpointSubnetPrefix"))
    private_endpoint = str(subnet.network_address + 4)
    aks = (BICEP / "modules" / "aks.bicep").read_text()
    cluster_ranges = re.findall(r"^\s+(?:podCidr|serviceCidr): '([^']+)'$", aks, re.M)
    assert len(cluster_ranges) == 2
    entra = "20.190.160.1"  # login.microsoftonline.com is in 20.190.128.0/18
    for component in APP_COMPONENTS:
        policy = r.named("NetworkPolicy", f"onboarding-{component}")
        assert egress_to(policy, private_endpoint, 443), component
        assert egress_to(policy, entra, 443), component
        for cidr in cluster_ranges:
            inside = str(ipaddress.ip_network(cidr).network_address + 10)
            assert not egress_to(policy, inside, 443), (component, cidr)


@pytest.mark.parametrize("name", ["values-kind", "values-prod"])
def test_the_worker_counts_deliveries_as_the_queue_does(
    renderings: dict[str, Rendering], name: str
) -> None:
    """Past the queue's max delivery count the broker dead-letters a message before the worker's
    own dead-lettering (and its notify_messages_total{outcome="dead_lettered"}) sees it."""
    r = renderings[name]
    data = r.named("ConfigMap", "onboarding-config")["data"]
    if name == "values-kind":
        config = json.loads(
            r.named("ConfigMap", "onboarding-servicebus-emulator")["data"]["Config.json"]
        )
        (namespace,) = config["UserConfig"]["Namespaces"]
        (queue,) = namespace["Queues"]
        expected = queue["Properties"]["MaxDeliveryCount"]
    else:
        bicep = (BICEP / "modules" / "servicebus.bicep").read_text()
        expected = int(re.search(r"^\s+maxDeliveryCount: (\d+)$", bicep, re.M).group(1))
    assert int(data["QUEUE_MAX_DELIVERIES"]) == expected


@pytest.mark.parametrize("name", ["values", "values-prod", "values-kind", "values-kind-embedded"])
def test_retention_runs_as_a_cronjob_of_the_admin_api_image(
    renderings: dict[str, Rendering], name: str
) -> None:
    """docs/privacy.md: records older than RETENTION_DAYS are erased by a CronJob, one run at a
    time, as admin-api (its identity and data role) and hardened like every app pod."""
    r = renderings[name]
    (cron,) = r.of_kind("CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cron["spec"]["schedule"].split()) == 5
    job = cron["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    admin = r.deployment("admin-api")["spec"]["template"]
    (container,) = pod["containers"]
    (admin_container,) = admin["spec"]["containers"]
    assert container["command"] == ["python", "-m", "admin_api.retention"]
    assert container["image"] == admin_container["image"]
    assert pod["serviceAccountName"] == admin["spec"]["serviceAccountName"]
    labels = job["template"]["metadata"]["labels"]
    assert labels.get("azure.workload.identity/use") == admin["metadata"]["labels"].get(
        "azure.workload.identity/use"
    )
    assert pod["securityContext"] == admin["spec"]["securityContext"]
    assert container["securityContext"] == admin_container["securityContext"]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert container["envFrom"] == admin_container["envFrom"]
    secrets = [e for e in admin_container["env"] if "valueFrom" in e]
    assert all(e in container["env"] for e in secrets)
    assert pod["volumes"] == admin["spec"]["volumes"]
    assert container["volumeMounts"] == admin_container["volumeMounts"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])


def test_retention_has_its_own_network_policy(renderings: dict[str, Rendering]) -> None:
    r = renderings["values-prod"]
    policy = r.named("NetworkPolicy", "onboarding-retention")
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == "retention"
    assert policy["spec"]["ingress"] == []
    assert egress_to(policy, "10.2.5.4", 443), "Cosmos DB's private endpoint"
    assert egress_to(policy, "20.190.160.1", 443), "Entra ID, for the workload identity token"
    kind = renderings["values-kind"]
    # After its erasures it purges dead letters: on kind, from the Service Bus emulator.
    for emulator, port in (("cosmos-emulator", 8081), ("servicebus-emulator", 5672)):
        admitting = kind.named("NetworkPolicy", f"onboarding-{emulator}")
        admitted = {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
            for peer in admitting["spec"]["ingress"][0]["from"]
        }
        assert "retention" in admitted, emulator
        retention = kind.named("NetworkPolicy", "onboarding-retention")
        assert any(
            rule["to"][0]
            .get("podSelector", {})
            .get("matchLabels", {})
            .get("app.kubernetes.io/component")
            == emulator
            and rule["ports"] == [{"protocol": "TCP", "port": port}]
            for rule in retention["spec"]["egress"]
        ), emulator


@pytest.mark.parametrize("name", ["values", "values-prod", "values-kind"])
def test_retention_passes_the_dead_letter_limit_to_the_job(
    renderings: dict[str, Rendering], name: str
) -> None:
    """DEAD_LETTER_MAX_AGE_DAYS reaches the job, at most the ledger's 30 days (the schema)."""
    (cron,) = renderings[name].of_kind("CronJob")
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DEAD_LETTER_MAX_AGE_DAYS"] == "30"
    schema = json.loads((CHART / "values.schema.json").read_text())
    limit = schema["properties"]["retention"]["properties"]["deadLetterMaxAgeDays"]
    assert (limit["minimum"], limit["maximum"]) == (1, LEDGER_TTL_SECONDS // 86400)


def pod_specs(r: Rendering) -> list[dict[str, Any]]:
    """The pod spec of every Deployment and CronJob the chart renders."""
    specs = [d["spec"]["template"]["spec"] for d in r.of_kind("Deployment")]
    specs += [c["spec"]["jobTemplate"]["spec"]["template"]["spec"] for c in r.of_kind("CronJob")]
    return specs


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_the_operator_account_is_for_on_calls_jobs_alone(
    renderings: dict[str, Rendering], name: str
) -> None:
    """The account on-call's dead-letter Jobs run as (cluster_jobs.py dlq): its identity holds
    Service Bus Data Receiver and Sender, so nothing the chart runs uses it, and its pods may
    reach Azure (the private endpoints, Entra ID) and nothing else; nothing may call them."""
    r = renderings[name]
    account = r.named("ServiceAccount", "onboarding-operator")
    assert account["automountServiceAccountToken"] is False
    annotations = account["metadata"]["annotations"]
    assert re.fullmatch(r"[0-9a-f-]{36}", annotations["azure.workload.identity/client-id"])
    assert annotations["azure.workload.identity/tenant-id"]
    assert all(spec["serviceAccountName"] != "onboarding-operator" for spec in pod_specs(r))

    policy = r.named("NetworkPolicy", "onboarding-operator")
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == "operator"
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["ingress"] == []
    env = name.removeprefix("values-")
    subnet = ipaddress.ip_network(bicep_param(env, "privateEndpointSubnetPrefix"))
    assert egress_to(policy, str(subnet.network_address + 4), 5671), "Service Bus Premium's PE"
    assert egress_to(policy, "20.190.160.1", 443), "Entra ID, for the workload identity token"
    assert not egress_to(policy, "192.168.0.10", 443), "the pod range"
    # No Service, and no other policy, takes the operator's pods for one of the app's.
    for doc in r.of_kind("Service"):
        assert not doc["spec"]["selector"].items() <= selector.items(), doc["metadata"]["name"]
    for other in r.of_kind("NetworkPolicy"):
        chosen = other["spec"]["podSelector"].get("matchLabels")
        if other is not policy and chosen:
            assert not chosen.items() <= selector.items(), other["metadata"]["name"]


@pytest.mark.parametrize("name", ["values", "values-kind", "switches-off"])
def test_the_operator_account_is_off_unless_enabled(
    renderings: dict[str, Rendering], name: str
) -> None:
    r = renderings[name]
    names = {doc["metadata"]["name"] for doc in r.docs}
    assert "onboarding-operator" not in names and not any(n.endswith("-operator") for n in names)


def test_the_chart_has_no_default_image_tag(helm: Path) -> None:
    """CI tags images with the commit SHA only: a release without a tag (or digests) is refused
    rather than pointed at the chart's version, which nobody pushes."""
    result = run([helm, "template", "onboarding", CHART])
    assert result.returncode != 0
    assert "set image.tag to the commit SHA" in result.stderr, result.stderr
    digests = [
        f"--set=services.{key}.image.digest=sha256:{'0' * 64}"
        for key in ("intakeUi", "intakeApi", "adminApi", "notify")
    ]
    assert run([helm, "template", "onboarding", CHART, *digests]).returncode == 0


MOVING_TAGS = re.compile(r":(latest|vnext-preview|vnext-latest|stable|main)$")


@pytest.mark.parametrize("name", ["values-kind", "switches-on"])
def test_emulator_images_are_pinned_to_a_release(
    renderings: dict[str, Rendering], name: str
) -> None:
    for d in renderings[name].of_kind("Deployment"):
        for c in containers(d):
            assert not MOVING_TAGS.search(c["image"]), c["image"]


# The managed NGINX of AKS application routing refuses an Ingress whose annotation values hold
# any of these (its annotation-value-word-blocklist), dropping the whole Ingress.
APP_ROUTING_BLOCKLIST = (
    "load_module", "lua_package", "_by_lua", "location", "root", "proxy_pass",
    "serviceaccount", "{", "}", "'",
)  # fmt: skip


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_only_front_door_reaches_the_site(renderings: dict[str, Rendering], name: str) -> None:
    """The origin is a public address: without this, anyone can go around Front Door's WAF."""
    r = renderings[name]
    values = yaml.safe_load((CHART / f"{name}.yaml").read_text())
    front_door = values["ingress"]["frontDoor"]["id"]
    for ingress in ("onboarding-intake-ui", "onboarding-intake-ui-admin"):
        annotations = r.named("Ingress", ingress)["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/enable-modsecurity"] == "true"
        rules = annotations["nginx.ingress.kubernetes.io/modsecurity-snippet"].splitlines()
        assert rules[0] == "SecRuleEngine On"
        assert re.fullmatch(
            r'SecRule &REQUEST_HEADERS:X-Azure-FDID "@eq 0" "id:\d+,phase:1,deny,status:403,.*"',
            rules[1],
        )
        assert re.fullmatch(
            rf'SecRule REQUEST_HEADERS:X-Azure-FDID "!@streq {front_door}" "id:\d+,phase:1,deny,status:403,.*"',
            rules[2],
        )
        for value in annotations.values():
            assert not [w for w in APP_ROUTING_BLOCKLIST if w in value.lower()], (ingress, value)
    assert "modsecurity" not in str(renderings["values-kind"].of_kind("Ingress"))


def test_the_schema_refuses_an_azure_site_open_around_front_door(helm: Path) -> None:
    result = run(
        [helm, "lint", "--strict", CHART, "-f", CHART / "values-prod.yaml",
         "--set", "ingress.frontDoor.id="]
    )  # fmt: skip
    assert result.returncode != 0, "an Ingress without the X-Azure-FDID check was accepted"
    assert "[ERROR] values.yaml" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["values-dev", "values-staging", "values-prod"])
def test_aks_gets_no_prometheus_rule_object(renderings: dict[str, Rendering], name: str) -> None:
    """Managed Prometheus evaluates Azure rule groups (alerts.bicep), not PrometheusRule objects,
    and the cluster has no monitoring.coreos.com CRD for one: helm would fail to install it."""
    r = renderings[name]
    assert not r.of_kind("PrometheusRule")
    monitors = {m["apiVersion"] for m in r.of_kind("ServiceMonitor")}
    assert monitors == {"azmonitoring.coreos.com/v1"}
    assert "prometheusRuleGroups@" in (BICEP / "modules" / "alerts.bicep").read_text()
    assert renderings["switches-on"].of_kind("PrometheusRule"), "kept for self-managed Prometheus"
