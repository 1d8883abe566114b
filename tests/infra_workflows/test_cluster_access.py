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
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra_workflows import policy
from infra_workflows.helpers import SCRIPTS, fake_cli, run_script

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


@pytest.fixture(scope="module")
def rendered_staging(helm: Path) -> list[dict[str, Any]]:
    chart = policy.ROOT / "charts" / "onboarding"
    command = [str(helm), "template", "onboarding", str(chart), "--namespace", "onboarding-staging"]
    command += ["-f", str(chart / "values-staging.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


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


def test_the_job_pods_are_locked_down(tmp_path: Path) -> None:
    for check, extra in (("smoke", ("--run-id", "1")), ("load-test", ())):
        _, manifests = bundle(tmp_path, check, *extra)
        job = manifests["Job"][0]["spec"]
        pod = job["template"]["spec"]
        container = pod["containers"][0]
        assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] <= 900
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]
        assert "@sha256:" in container["image"]


def test_unpinned_images_are_refused(tmp_path: Path) -> None:
    result = run_script(
        "cluster_jobs.py", "smoke", "--out", str(tmp_path), "--namespace", "x",
        "--image", "acr.azurecr.io/onboarding/intake-api:latest", "--run-id", "1",
    )  # fmt: skip
    assert result.returncode == 2 and "pinned by digest" in result.stderr


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
