"""The workflows reach AKS only through `az aks command invoke`; the checks run next to intake-api.

The API server admits only its authorized IP ranges, so nothing on a GitHub-hosted runner may talk
to it. `aks_run.py` is run against a fake `az` that behaves like the real one (text on --no-wait,
JSON result only when done, no exit code passed on); the Job bundles are checked against the
chart's own rendering, and the smoke Job's command is run against a real intake-api.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from infra_workflows import policy
from infra_workflows.helpers import SCRIPTS, fake_cli, run_script
from pydantic import ValidationError

from intake_core.settings import CommonSettings

pytestmark = pytest.mark.infra

FAKE_AZ = """
import json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as calls:
    calls.write(json.dumps({"args": args, "cwd": os.getcwd(),
                            "files": sorted(str(p.relative_to(os.getcwd()))
                                            for p in Path(os.getcwd()).rglob("*") if p.is_file())
                            if "--file" in args else []}) + "\\n")
if args[:3] == ["aks", "command", "invoke"]:
    if os.environ.get("FAKE_NO_ID"):
        print("something unexpected")
    else:
        print("command id: 0a3991475d9744fcbfdc2595b40e517f, started at: None, status: Running")
        print('Please use command "az aks command result -g rg -n aks -i 0a39" to get the result')
    sys.exit(0)
if args[:3] == ["aks", "command", "result"]:
    polls = state / "polls"
    count = int(polls.read_text()) + 1 if polls.exists() else 1
    polls.write_text(str(count))
    if count < int(os.environ.get("FAKE_POLLS", "2")):
        print("command id: 0a3991475d9744fcbfdc2595b40e517f, started at: now, status: Running")
        sys.exit(0)
    print(json.dumps({"id": "0a39", "provisioningState": os.environ.get("FAKE_STATE_NAME", "Succeeded"),
                      "exitCode": int(os.environ.get("FAKE_EXIT", "0")),
                      "logs": "previous-revision=7\\nhelm says hello\\n", "reason": "pod never started"}))
    sys.exit(0)
sys.exit(2)
"""


def aks_run(
    tmp_path: Path, *arguments: str, **fake: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    az = fake_cli(tmp_path, "az", FAKE_AZ)
    env = {**os.environ, "AZ": str(az), "FAKE_STATE": str(state), **fake}
    command = ["--resource-group", "rg", "--cluster", "aks", "--poll", "0.01", *arguments]
    result = run_script("aks_run.py", *command, env=env)
    calls_file = state / "calls.jsonl"
    calls = (
        [json.loads(line) for line in calls_file.read_text().splitlines()]
        if calls_file.exists()
        else []
    )
    return result, calls


def test_aks_run_starts_without_waiting_polls_and_prints_the_logs(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "chart" / "templates").mkdir(parents=True)
    (bundle / "chart" / "templates" / "a.yaml").write_text("x")
    (bundle / "deploy.sh").write_text("echo")
    logs = tmp_path / "out.log"
    result, calls = aks_run(
        tmp_path,
        "--bundle",
        str(bundle),
        "--logs",
        str(logs),
        "--",
        "bash deploy.sh",
        FAKE_POLLS="3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    start, *polls = calls
    assert start["args"][:3] == ["aks", "command", "invoke"]
    assert "--no-wait" in start["args"]  # the CLI's own wait stops after 300 s
    assert start["args"][start["args"].index("--command") + 1] == "bash deploy.sh"
    # The whole folder, layout kept: `--file .` from inside it (single files would be flattened).
    assert start["args"][start["args"].index("--file") + 1] == "."
    assert Path(start["cwd"]) == bundle.resolve()
    assert start["files"] == ["chart/templates/a.yaml", "deploy.sh"]
    assert len(polls) == 3
    assert all("0a3991475d9744fcbfdc2595b40e517f" in call["args"] for call in polls)
    assert "helm says hello" in result.stdout
    assert logs.read_text().startswith("previous-revision=7\n")


@pytest.mark.parametrize(
    ("fake", "timeout", "code", "message"),
    [
        ({"FAKE_EXIT": "3"}, "60", 3, "exited with 3"),  # the in-cluster exit code is the step's
        ({"FAKE_STATE_NAME": "Failed"}, "60", 1, "pod never started"),
        ({"FAKE_NO_ID": "1"}, "60", 1, "no command id"),
        ({"FAKE_POLLS": "1000"}, "0.5", 124, "still running"),
    ],
)
def test_aks_run_fails_when_the_command_does(
    tmp_path: Path, fake: dict[str, str], timeout: str, code: int, message: str
) -> None:
    result, _ = aks_run(tmp_path, "--timeout", timeout, "--", "kubectl get pods", **fake)
    assert result.returncode == code, result.stdout
    assert message in result.stdout


# -- the policy: no kubectl, helm, kubelogin or kubeconfig on a runner signed in to Azure --------


def test_cluster_commands_on_the_runner_are_caught() -> None:
    workflow = policy.load_text("""
on: push
jobs:
  deploy:
    steps:
      - uses: azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5
      - uses: azure/use-kubelogin@0ce7c36141aa27d4934872cf00b0120804c98a29
      - run: |
          az aks get-credentials -g rg -n aks
          helm upgrade onboarding ./chart   # direct
          for d in $(kubectl get deploy -o name); do echo "$d"; done
          python3 .github/scripts/aks_run.py -g rg --cluster aks -- "kubectl get pods"
          echo "helm is fine in a string" # and kubectl in a comment
  kind:
    steps:
      - run: helm install onboarding ./chart --kube-context kind-kind
""")
    assert policy.direct_cluster_access_violations(workflow) == [
        "job deploy: azure/use-kubelogin talks to the API server directly",
        "job deploy: fetches a kubeconfig: az aks get-credentials -g rg -n aks",
        "job deploy: runs helm on the runner: helm upgrade onboarding ./chart",
        "job deploy: runs kubectl on the runner: for d in $(kubectl get deploy -o name);"
        ' do echo "$d"; done',
    ]


@pytest.mark.parametrize("name", ["deploy-env.yml", "chaos.yml", "cost.yml", "load-test.yml"])
def test_cluster_workflows_go_through_command_invoke(name: str) -> None:
    text = (policy.WORKFLOWS / name).read_text()
    assert "aks_run.py" in text
    assert policy.direct_cluster_access_violations(policy.load(policy.WORKFLOWS / name)) == []


def test_the_in_cluster_scripts_are_attached_with_the_workflows() -> None:
    for script in ("deploy.sh", "rollback.sh", "run-job.sh", "scale-workloads.sh"):
        assert (SCRIPTS / "cluster" / script).is_file()
    deploy = (SCRIPTS / "cluster" / "deploy.sh").read_text()
    assert "--create-namespace" not in deploy, "the deploy identity may not create namespaces"
    assert "--atomic --wait" in deploy


# -- the Job bundles: smoke test and load test next to intake-api --------------------------------


def bundle(tmp_path: Path, check: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / check
    image = "acr.azurecr.io/onboarding/intake-api@sha256:" + "a" * 64
    result = run_script(
        "cluster_jobs.py", check, "--out", str(out), "--namespace", "onboarding-staging",
        "--image", image, *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    items = json.loads((out / "manifests.json").read_text())["items"]
    by_kind: dict[str, Any] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
        assert item["metadata"]["namespace"] == "onboarding-staging"
    return out, by_kind


def test_the_probe_policies_open_intake_api_to_the_job_only(
    tmp_path: Path, rendered_staging: list[dict[str, Any]]
) -> None:
    _, manifests = bundle(tmp_path, "smoke", "--run-id", "1-staging")
    egress, ingress = manifests["NetworkPolicy"]
    pod_labels = manifests["Job"][0]["spec"]["template"]["metadata"]["labels"]
    api = next(
        doc
        for doc in rendered_staging
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "onboarding-intake-api"
    )
    api_labels = api["spec"]["template"]["metadata"]["labels"]
    service = next(
        doc
        for doc in rendered_staging
        if doc["kind"] == "Service" and doc["metadata"]["name"] == "onboarding-intake-api"
    )
    port = service["spec"]["ports"][0]["port"]
    # The Job's egress reaches the intake-api pods, and they admit the Job's pods, on their port.
    assert egress["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert (
        egress["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"].items()
        <= api_labels.items()
    )
    assert egress["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": port}]
    assert ingress["spec"]["podSelector"]["matchLabels"].items() <= api_labels.items()
    assert (
        ingress["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"].items()
        <= pod_labels.items()
    )
    # ...and no chart policy or Service mistakes the Job's pods for one of the app's.
    for doc in rendered_staging:
        selector = (doc.get("spec") or {}).get("selector") or {}
        if doc["kind"] == "Service" and selector:
            assert not selector.items() <= pod_labels.items(), doc["metadata"]["name"]
    assert f"http://onboarding-intake-api:{port}" in " ".join(
        manifests["Job"][0]["spec"]["template"]["spec"]["containers"][0]["command"]
    )


def dlq_bundle(tmp_path: Path, action: str, *extra: str) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / f"dlq-{action}"
    result = run_script(
        "cluster_jobs.py", "dlq", action, "--out", str(out), "--namespace", "onboarding-staging",
        *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    by_kind: dict[str, Any] = {}
    for item in json.loads((out / "manifests.json").read_text())["items"]:
        by_kind.setdefault(item["kind"], []).append(item)
        assert item["metadata"]["namespace"] == "onboarding-staging"
    return out, by_kind


def test_the_job_pods_are_locked_down(tmp_path: Path) -> None:
    bundles = [bundle(tmp_path, "smoke", "--run-id", "1"), bundle(tmp_path, "load-test")]
    bundles += [dlq_bundle(tmp_path, action) for action in ("list", "replay", "purge")]
    for out, manifests in bundles:
        job = manifests["Job"][0]["spec"]
        pod = job["template"]["spec"]
        container = pod["containers"][0]
        assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] <= 900
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]
        # Pinned by digest, or the image a Deployment of the release runs (resolved in-cluster).
        assert "@sha256:" in container["image"] or (out / "image-from").is_file()


def test_unpinned_images_are_refused(tmp_path: Path) -> None:
    result = run_script(
        "cluster_jobs.py", "smoke", "--out", str(tmp_path), "--namespace", "x",
        "--image", "acr.azurecr.io/onboarding/intake-api:latest", "--run-id", "1",
    )  # fmt: skip
    assert result.returncode == 2 and "pinned by digest" in result.stderr


# -- on-call's dead-letter Jobs: intake dlq list|replay as the chart's operator account ---------


def test_the_dlq_job_runs_intake_as_the_operator_with_the_charts_settings(
    tmp_path: Path, rendered_staging: list[dict[str, Any]]
) -> None:
    out, manifests = dlq_bundle(tmp_path, "replay", "--run-id", "inc-42")
    # Nothing but the Job: the chart's operator NetworkPolicy already lets its pods reach Azure.
    assert set(manifests) == {"Job"}
    (job,) = manifests["Job"]
    assert job["metadata"]["name"] == "onboarding-operator-dlq-replay-inc-42"
    pod = job["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["intake", "dlq", "replay"]

    def rendered(kind: str, name: str) -> dict[str, Any]:
        (doc,) = [
            d for d in rendered_staging if d["kind"] == kind and d["metadata"]["name"] == name
        ]
        return doc

    # Its account is the one the operator identity is federated with, and workload identity
    # acts on its pod; no Kubernetes API token is mounted.
    account = rendered("ServiceAccount", pod["spec"]["serviceAccountName"])
    assert account["metadata"]["labels"]["app.kubernetes.io/component"] == "operator"
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["spec"]["automountServiceAccountToken"] is False
    # The chart's operator policy picks its pods, and nothing else of the chart does.
    operator_policy = rendered("NetworkPolicy", "onboarding-operator")
    labels = pod["metadata"]["labels"]
    assert operator_policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    for doc in rendered_staging:
        selector = (doc.get("spec") or {}).get("selector") or {}
        if doc["kind"] == "Service":
            assert not selector.items() <= labels.items(), doc["metadata"]["name"]
        chosen = (doc.get("spec") or {}).get("podSelector", {}).get("matchLabels")
        if doc["kind"] == "NetworkPolicy" and chosen and doc is not operator_policy:
            assert not chosen.items() <= labels.items(), doc["metadata"]["name"]
    # The image is the notify worker's, as deployed; it has the intake CLI.
    assert (out / "image-from").read_text().strip() == "onboarding-notify"
    notify = rendered("Deployment", "onboarding-notify")
    assert notify["spec"]["template"]["spec"]["containers"][0]["image"]
    core = (policy.ROOT / "libs" / "intake-core" / "pyproject.toml").read_text()
    assert 'intake = "intake_core.cli:main"' in core
    assert '"intake-core"' in (policy.ROOT / "functions" / "notify" / "pyproject.toml").read_text()


def test_the_dlq_purge_job_runs_as_the_retention_jobs_account(
    tmp_path: Path, rendered_staging: list[dict[str, Any]]
) -> None:
    """A purge checks each dead letter's record in the store, which the operator identity may
    not read: it runs as the retention CronJob does, as admin-api's account (the Cosmos DB data
    role and Service Bus Data Receiver on the queue; never Sender), under the operator policy."""
    _, manifests = dlq_bundle(tmp_path, "purge", "--dry-run", "--older-than-days", "7")
    assert set(manifests) == {"Job"}
    (job,) = manifests["Job"]
    pod = job["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["intake", "dlq", "purge", "--older-than-days", "7", "--dry-run"]
    (cron,) = [d for d in rendered_staging if d["kind"] == "CronJob"]
    retention = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["spec"]["serviceAccountName"] == retention["serviceAccountName"]
    (account,) = [
        d
        for d in rendered_staging
        if d["kind"] == "ServiceAccount"
        and d["metadata"]["name"] == pod["spec"]["serviceAccountName"]
    ]
    assert account["metadata"]["labels"]["app.kubernetes.io/component"] == "admin-api"
    assert account["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["spec"]["automountServiceAccountToken"] is False
    (operator_policy,) = [
        d
        for d in rendered_staging
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "onboarding-operator"
    ]
    assert (
        operator_policy["spec"]["podSelector"]["matchLabels"].items()
        <= pod["metadata"]["labels"].items()
    )
    # Without options it removes what is older than the notify ledger keeps event ids.
    _, default = dlq_bundle(tmp_path / "default", "purge")
    (container,) = default["Job"][0]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["intake", "dlq", "purge", "--older-than-days", "30"]


@pytest.mark.parametrize(
    ("action", "extra", "message"),
    [
        ("list", ("--dry-run",), "are for dlq purge"),
        ("replay", ("--older-than-days", "7"), "are for dlq purge"),
        ("purge", ("--older-than-days", "31"), "1 to 30 days"),
    ],
)
def test_the_purge_options_are_for_a_purge_within_the_ledgers_lifetime(
    tmp_path: Path, action: str, extra: tuple[str, ...], message: str
) -> None:
    result = run_script(
        "cluster_jobs.py", "dlq", action, "--out", str(tmp_path), "--namespace", "x", *extra
    )
    assert result.returncode == 2 and message in result.stderr


def test_the_dlq_purge_job_command_runs_the_intake_cli(tmp_path: Path) -> None:
    """The purge Job's command, run here against the embedded store and queue of an empty data
    dir: it reads both and says what it would remove."""
    _, manifests = dlq_bundle(tmp_path, "purge", "--dry-run")
    (container,) = manifests["Job"][0]["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    intake = Path(sys.executable).parent / command[0]
    env = {**os.environ, "BUS": "local", "INTAKE_DATA_DIR": str(tmp_path / "data")}
    env |= {e["name"]: e["value"] for e in container["env"] if e["name"] != "HOME"}
    result = subprocess.run(
        [str(intake), *command[1:]], capture_output=True, text=True, timeout=60, env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would purge 0 of 0 dead-lettered message(s) on the local queue" in result.stderr


def test_the_dlq_job_settings_start_where_the_services_ones_do(
    tmp_path: Path, rendered_staging: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Job reads the services' ConfigMap (BUS, SERVICEBUS_NAMESPACE, SERVICEBUS_QUEUE) as
    `intake` reads it: OTEL_EXPORTER=azuremonitor there needs the App Insights connection
    string, a Key Vault secret the Job does not mount, so the Job turns the exporter off."""
    _, manifests = dlq_bundle(tmp_path, "list")
    (container,) = manifests["Job"][0]["spec"]["template"]["spec"]["containers"]
    (source,) = container["envFrom"]
    (config,) = [
        d
        for d in rendered_staging
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == source["configMapRef"]["name"]
    ]
    env = {**config["data"], **{e["name"]: e["value"] for e in container["env"]}}
    monkeypatch.setattr(os, "environ", env)
    settings = CommonSettings()
    assert settings.bus == "servicebus" and settings.servicebus_namespace
    assert settings.servicebus_queue == "submissions"
    monkeypatch.setattr(os, "environ", dict(config["data"]))
    with pytest.raises(ValidationError, match="APPLICATIONINSIGHTS_CONNECTION_STRING"):
        CommonSettings()


def test_the_dlq_job_command_runs_the_intake_cli(tmp_path: Path) -> None:
    """The Job's command, run here against the embedded queue (BUS=local) of an empty data dir."""
    _, manifests = dlq_bundle(tmp_path, "list")
    (container,) = manifests["Job"][0]["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    intake = Path(sys.executable).parent / command[0]
    env = {**os.environ, "BUS": "local", "INTAKE_DATA_DIR": str(tmp_path / "data")}
    env |= {e["name"]: e["value"] for e in container["env"] if e["name"] != "HOME"}
    result = subprocess.run(
        [str(intake), *command[1:]], capture_output=True, text=True, timeout=60, env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 dead-lettered message(s) on the local queue" in result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--image", "acr.azurecr.io/onboarding/intake-notify:latest"), "pinned by digest"),
        (("--image-from", "intake-ui"), "invalid choice"),
    ],
)
def test_the_dlq_job_refuses_an_unpinned_image_or_one_without_the_cli(
    tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    result = run_script(
        "cluster_jobs.py", "dlq", "list", "--out", str(tmp_path), "--namespace", "x", *extra
    )
    assert result.returncode == 2 and message in result.stderr


def test_a_dlq_bundle_with_an_image_runs_that_image(tmp_path: Path) -> None:
    image = "acr.azurecr.io/onboarding/admin-api@sha256:" + "b" * 64
    out, manifests = dlq_bundle(tmp_path, "list", "--image", image)
    assert manifests["Job"][0]["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert not (out / "image-from").exists()


# The Jobs each runbook starts, in order: the alert's runbook lists and replays; runbooks.md
# purges as well.
DLQ_RUNBOOKS = {
    "docs/runbooks.md": ["dlq-list", "dlq-replay", "dlq-purge"],
    "docs/runbooks/NotifyDeadLetters.md": ["dlq-list", "dlq-replay"],
}


def dlq_commands(doc: str) -> str:
    """The shell blocks of ``doc`` that start the dead-letter Jobs, in order, as one script."""
    text = (policy.ROOT / doc).read_text()
    blocks = re.findall(r"(?ms)^( *)```bash\n(.*?)^\1```", text)
    found = [textwrap.dedent(body) for _, body in blocks if "cluster_jobs.py dlq" in body]
    assert found, f"{doc} gives no command for the dead-letter Jobs"
    return "\n".join(found)


@pytest.mark.parametrize("doc", sorted(DLQ_RUNBOOKS))
def test_the_runbook_commands_start_the_dlq_jobs(tmp_path: Path, doc: str) -> None:
    """What on-call copies from the runbook, run as it is (a fake az stands in for Azure): a
    list bundle, then a replay bundle (then a dry-run purge), each handed to command invoke with
    run-job.sh."""
    work = tmp_path / "checkout"
    work.mkdir()
    (work / ".github").symlink_to(policy.ROOT / ".github")
    state = tmp_path / "state"
    state.mkdir()
    az = fake_cli(tmp_path, "az", FAKE_AZ)
    env = {**os.environ, "AZ": str(az), "FAKE_STATE": str(state), "FAKE_POLLS": "1"}
    script = "set -euo pipefail\n" + dlq_commands(doc)
    result = subprocess.run(
        ["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=120, env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
    invoked = [call for call in calls if call["args"][:3] == ["aks", "command", "invoke"]]
    assert [Path(call["cwd"]).name for call in invoked] == DLQ_RUNBOOKS[doc]
    for call in invoked:
        args = call["args"]
        assert args[args.index("--command") + 1] == "bash run-job.sh onboarding-prod 420"
        assert args[args.index("--resource-group") + 1] == "rg-a10corp-sales-prod"
        assert args[args.index("--name") + 1] == "aks-intake-prod-eus"
        assert set(call["files"]) == {"image-from", "job-name", "manifests.json", "run-job.sh"}
        (item,) = json.loads((Path(call["cwd"]) / "manifests.json").read_text())["items"]
        assert item["metadata"]["namespace"] == "onboarding-prod"
        action = Path(call["cwd"]).name.removeprefix("dlq-")
        container = item["spec"]["template"]["spec"]["containers"][0]
        options = ["--older-than-days", "30", "--dry-run"] if action == "purge" else []
        assert container["command"] == ["intake", "dlq", action, *options]
    assert (work / "dlq-replay.log").read_text()


# -- run-job.sh, with a kubectl that answers as the API server would ----------------------------

FAKE_KUBECTL = """
import json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "kubectl.jsonl").open("a") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[:2] == ["get", "serviceaccount"]:
    sys.exit(0 if args[2] in os.environ.get("FAKE_ACCOUNTS", "").split(",") else 1)
if args[:2] == ["get", "deployment"]:
    images = json.loads(os.environ.get("FAKE_IMAGES", "{}"))
    if args[2] not in images:
        print(f'Error from server (NotFound): deployments.apps "{args[2]}" not found', file=sys.stderr)
        sys.exit(1)
    print(images[args[2]], end="")
    sys.exit(0)
if args[0] == "apply":
    source = args[args.index("--filename") + 1]
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    (state / "applied.json").write_text(text)
    sys.exit(0)
if args[:2] == ["get", "job"]:
    print(json.dumps({"status": {"succeeded": 1}}))
    sys.exit(0)
if args[0] == "logs":
    print("replayed 3 message(s) to servicebus queue")
sys.exit(0)
"""


def run_job(
    tmp_path: Path, out: Path, **fake: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """run-job.sh in the bundle folder, as the aks-command pod runs it."""
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("run-job.sh needs jq, which the aks-command pod has: apt-get install jq")
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake_cli(bin_dir, "kubectl", FAKE_KUBECTL)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env |= {"FAKE_STATE": str(state), **fake}
    result = subprocess.run(
        ["bash", "run-job.sh", "onboarding-staging", "30"], cwd=out, capture_output=True,
        text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    return result, state


def test_run_job_runs_the_image_the_deployment_runs(tmp_path: Path) -> None:
    out, _ = dlq_bundle(tmp_path, "replay")
    deployed = "acr.azurecr.io/onboarding/intake-notify@sha256:" + "c" * 64
    result, state = run_job(
        tmp_path, out, FAKE_ACCOUNTS="onboarding-operator",
        FAKE_IMAGES=json.dumps({"onboarding-notify": deployed}),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"image of deployment/onboarding-notify: {deployed}" in result.stdout
    assert "replayed 3 message(s)" in result.stdout
    (applied,) = json.loads((state / "applied.json").read_text())["items"]
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == deployed
    calls = [json.loads(line) for line in (state / "kubectl.jsonl").read_text().splitlines()]
    assert calls[-1][:2] == ["delete", "--namespace"], "removed again when it ends"


@pytest.mark.parametrize(
    ("fake", "message"),
    [
        ({"FAKE_IMAGES": "{}"}, "service account onboarding-operator not found"),
        (
            {"FAKE_ACCOUNTS": "onboarding-operator"},
            'deployments.apps "onboarding-notify" not found',
        ),
    ],
)
def test_run_job_stops_at_once_without_the_account_or_the_deployment(
    tmp_path: Path, fake: dict[str, str], message: str
) -> None:
    out, _ = dlq_bundle(tmp_path, "list")
    result, state = run_job(tmp_path, out, **fake)
    assert result.returncode == 1
    assert message in result.stdout + result.stderr
    assert not (state / "applied.json").exists()


def test_run_job_applies_a_check_bundle_as_it_is(tmp_path: Path) -> None:
    out, _ = bundle(tmp_path, "smoke", "--run-id", "7")
    result, state = run_job(tmp_path, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((state / "applied.json").read_text()) == json.loads(
        (out / "manifests.json").read_text()
    )


def test_run_job_prints_the_whole_log_only_where_the_bundle_asks(tmp_path: Path) -> None:
    """A Job's log is tailed to its last 400 lines; an erasures list comes back whole (the
    extraction then checks it against its count), and a bundle folder reused says which."""
    image = "acr.azurecr.io/onboarding/admin-api@sha256:" + "b" * 64
    out = tmp_path / "bundle"
    for command, tail in (
        (["erasures", "list", "--since", "2026-05-01T12:00:00Z"], "--tail=-1"),
        (["dlq", "list"], "--tail=400"),
    ):
        result = run_script(
            "cluster_jobs.py", *command, "--out", str(out), "--namespace", "x", "--image", image
        )
        assert result.returncode == 0, result.stderr
        ran, state = run_job(
            tmp_path, out, FAKE_ACCOUNTS="onboarding-admin-api,onboarding-operator"
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        calls = [json.loads(line) for line in (state / "kubectl.jsonl").read_text().splitlines()]
        (logs,) = [call for call in calls if call[0] == "logs"]
        assert logs[-1] == tail
        (state / "kubectl.jsonl").unlink()


def lay_out_config_map(manifests: dict[str, Any], work: Path) -> None:
    """Write the ConfigMap's files where the Job's volume puts them (/work in the pod)."""
    data = manifests["ConfigMap"][0]["data"]
    volume = manifests["Job"][0]["spec"]["template"]["spec"]["volumes"][0]["configMap"]
    for item in volume["items"]:
        target = work / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data[item["key"]])


def test_the_smoke_job_command_passes_against_the_real_intake_api(
    tmp_path: Path, intake_api: str
) -> None:
    _, manifests = bundle(tmp_path, "smoke", "--run-id", "42-dev", "--attempts", "3")
    work = tmp_path / "work"
    lay_out_config_map(manifests, work)
    command = manifests["Job"][0]["spec"]["template"]["spec"]["containers"][0]["command"]
    command = [part.replace("/work", str(work)) for part in command]
    command[command.index("--api-url") + 1] = intake_api  # the Service, here a local process
    assert command[0] == "python3"
    result = subprocess.run(
        [shutil.which("python3") or "python3", *command[1:]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   submission: CL-" in result.stdout


def test_the_load_test_job_prints_stats_the_gate_can_read(tmp_path: Path) -> None:
    out, manifests = bundle(tmp_path, "load-test", "--users", "100", "--run-time", "5m")
    container = manifests["Job"][0]["spec"]["template"]["spec"]["containers"][0]
    env = {entry["name"]: entry["value"] for entry in container["env"]}
    assert env["TARGET"] == "http://onboarding-intake-api:8001"
    assert (env["USERS"], env["RUN_TIME"]) == ("100", "5m")
    files = {
        item["path"]
        for item in manifests["Job"][0]["spec"]["template"]["spec"]["volumes"][0]["configMap"][
            "items"
        ]
    }
    assert files == {"bench/locustfile.py", "docs/examples/submission.json"}
    assert (out / "run-job.sh").is_file() and (out / "job-name").read_text().strip()
    # What the Job prints (Locust's summary, then the CSV between markers) is cut out for the gate.
    log = tmp_path / "job.log"
    stats = "Type,Name,Request Count,Failure Count,Median Response Time,95%,99%\n,Aggregated,900,0,40,90,120"
    script = container["command"][-1]
    begin, end = re.findall(r'echo "(--- [^"]+ ---)"', script)
    log.write_text(f"Name  # reqs\nAggregated 900\n{begin}\n{stats}\n{end}\njob x: succeeded\n")
    csv = tmp_path / "results" / "locust_stats.csv"
    assert (
        run_script("cluster_jobs.py", "stats", "--logs", str(log), "--out", str(csv)).returncode
        == 0
    )
    assert csv.read_text() == stats + "\n"
    gate = run_script("load_thresholds.py", str(csv), "--min-requests", "500")
    assert gate.returncode == 0, gate.stdout
    log.write_text("job x: failed\n")
    assert (
        run_script("cluster_jobs.py", "stats", "--logs", str(log), "--out", str(csv)).returncode
        == 1
    )
