#!/usr/bin/env python3
"""Bundles that run a Kubernetes Job in the app's namespace, for `aks_run.py` (stdlib only).

intake-api has no public route (the Ingress publishes the UI only) and its NetworkPolicy admits
only intake-ui, so the smoke test and the load test run inside the namespace instead of on the
runner. Each bundle is a folder for `aks_run.py --bundle`:

- `manifests.json`: a List with two NetworkPolicies (the Job's pods may call intake-api, and
  intake-api admits them; policies add up, so nothing else opens), a ConfigMap with the files
  the Job needs, and the Job itself (non-root, read-only root filesystem, no service account
  token, bounded resources and run time);
- `run-job.sh`: applies it, waits for the Job, prints its log and removes everything again.

`dlq list|replay|purge` is on-call's: `intake dlq …` as a Job with the chart's ConfigMap, in the
image the notify Deployment runs (`image-from`, resolved by `run-job.sh` in the cluster) unless
`--image` names one. `list` and `replay` run as the chart's operator account (`operator.enabled`;
workload identity with Service Bus Data Receiver and Sender on the queue). `purge` reads the
store as well (is each dead letter's record erased?), which the operator identity may not: it
runs as the retention job does, as admin-api's account (the Cosmos DB data role, and Service Bus
Data Receiver on the queue for this). The chart's operator NetworkPolicy picks every such pod by
its labels and lets it reach Azure; the bundle adds none.

    python3 .github/scripts/cluster_jobs.py smoke --out bundle --namespace onboarding-dev \
        --image acr.azurecr.io/onboarding/intake-api@sha256:... --run-id 123-dev
    python3 .github/scripts/cluster_jobs.py load-test --out bundle --namespace onboarding-staging \
        --image docker.io/locustio/locust:2.47.0@sha256:... --users 100 --run-time 5m
    python3 .github/scripts/cluster_jobs.py stats --logs job.log --out load-results/locust_stats.csv
    python3 .github/scripts/cluster_jobs.py dlq list --out dlq --namespace onboarding-prod
    python3 .github/scripts/cluster_jobs.py dlq purge --dry-run --out dlq --namespace onboarding-dev
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

TMP = "/tmp"  # noqa: S108 - the Job's own emptyDir, the one writable folder in the pod
ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent
PROBE = "ci-probe"
STATS_BEGIN = "--- locust_stats.csv ---"
STATS_END = "--- end of locust_stats.csv ---"
# RFC 2544's benchmarking range: never a real client, so no real client's rate-limit bucket.
LOAD_TEST_SOURCE_RANGE = "198.18.0.0/15"
# The chart's name and the component of its operator account and NetworkPolicy.
CHART = "onboarding"
OPERATOR = "operator"
# Components whose image has the `intake` CLI; the chart's ConfigMap gives either the bus.
DLQ_IMAGE_FROM = ("notify", "admin-api")
# The account a purge runs as: the retention job's (admin-api's), which may read the store.
PURGE_ACCOUNT = "admin-api"
# intake_core.ports.DEAD_LETTER_MAX_AGE_DAYS (the notify ledger's lifetime); this script runs
# where the package is not installed.
DEAD_LETTER_MAX_AGE_DAYS = 30


def dns_name(*parts: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return name[:63].rstrip("-")


def probe_labels(release: str, kind: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "onboarding-ci",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": PROBE,
        "onboarding.example/check": kind,
    }


def operator_labels(release: str, action: str) -> dict[str, str]:
    """The chart's selector labels of its operator component (its NetworkPolicy picks these)."""
    return {
        "app.kubernetes.io/name": CHART,
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": OPERATOR,
        "onboarding.example/operation": f"dlq-{action}",
    }


def api_selector(release: str) -> dict[str, str]:
    return {"app.kubernetes.io/instance": release, "app.kubernetes.io/component": "intake-api"}


def network_policies(release: str, kind: str, port: int) -> list[dict[str, Any]]:
    probe = {"matchLabels": probe_labels(release, kind)}
    api = {"matchLabels": api_selector(release)}
    tcp = [{"protocol": "TCP", "port": port}]
    name = dns_name(release, PROBE, kind)
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{name}-egress", "labels": probe_labels(release, kind)},
            "spec": {
                "podSelector": probe,
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": api}], "ports": tcp}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{name}-ingress", "labels": probe_labels(release, kind)},
            "spec": {
                "podSelector": api,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": probe}], "ports": tcp}],
            },
        },
    ]


def job(
    name: str,
    release: str,
    kind: str,
    image: str,
    command: list[str],
    files: dict[str, str],
    resources: dict[str, dict[str, str]],
    deadline_seconds: int,
    env: dict[str, str] | None = None,
    *,
    labels: dict[str, str] | None = None,
    service_account: str | None = None,
    env_from: str | None = None,
) -> list[dict[str, Any]]:
    """The ConfigMap holding `files` (key -> path under /work), if any, and the Job that runs
    `command`. With `service_account` the pod runs as it with workload identity (the webhook
    projects its own token; the Kubernetes API token stays out); `env_from` names a ConfigMap
    whose entries become environment variables."""
    labels = labels or probe_labels(release, kind)
    keys = {path: dns_name(path.replace("/", "-").replace(".", "-")) for path in files}
    container: dict[str, Any] = {
        "name": kind,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "env": [{"name": k, "value": v} for k, v in {"HOME": TMP, **(env or {})}.items()],
        "resources": resources,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": TMP}],
    }
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    config: list[dict[str, Any]] = []
    if files:
        config.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "labels": labels},
                "data": {keys[path]: content for path, content in files.items()},
            }
        )
        container["volumeMounts"].insert(
            0, {"name": "work", "mountPath": "/work", "readOnly": True}
        )
        items = [{"key": keys[path], "path": path} for path in files]
        volumes.insert(0, {"name": "work", "configMap": {"name": name, "items": items}})
    if env_from is not None:
        container["envFrom"] = [{"configMapRef": {"name": env_from}}]
    pod_labels = dict(labels)
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    if service_account is not None:
        spec["serviceAccountName"] = service_account
        pod_labels["azure.workload.identity/use"] = "true"
    batch = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline_seconds,
            "ttlSecondsAfterFinished": 3600,
            "template": {"metadata": {"labels": pod_labels}, "spec": spec},
        },
    }
    return [*config, batch]


def smoke(arguments: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    run = hashlib.sha256(arguments.run_id.encode()).hexdigest()[:8]
    name = dns_name(arguments.release, PROBE, "smoke", run)
    api = f"http://{arguments.release}-intake-api:{arguments.api_port}"
    files = {
        ".github/scripts/smoke_test.py": (SCRIPTS / "smoke_test.py").read_text(),
        "docs/examples/submission.json": (ROOT / "docs/examples/submission.json").read_text(),
    }
    command = ["python3", "/work/.github/scripts/smoke_test.py", "--api-url", api]
    command += ["--attempts", str(arguments.attempts), "--run-id", arguments.run_id]
    resources = {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "250m", "memory": "128Mi"},
    }
    return name, job(
        name, arguments.release, "smoke", arguments.image, command, files, resources, 300
    )


def load_test(arguments: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    name = dns_name(arguments.release, PROBE, "load-test")
    files = {
        "bench/locustfile.py": (ROOT / "bench/locustfile.py").read_text(),
        "docs/examples/submission.json": (ROOT / "docs/examples/submission.json").read_text(),
    }
    script = (
        'locust -f /work/bench/locustfile.py --headless --host "$TARGET" --users "$USERS"'
        ' --spawn-rate "$SPAWN_RATE" --run-time "$RUN_TIME" --csv /tmp/locust --only-summary'
        " --exit-code-on-error 0"
        f' && echo "{STATS_BEGIN}" && cat /tmp/locust_stats.csv && echo "{STATS_END}"'
    )
    env = {
        "TARGET": f"http://{arguments.release}-intake-api:{arguments.api_port}",
        "USERS": str(arguments.users),
        "SPAWN_RATE": str(arguments.spawn_rate),
        "RUN_TIME": arguments.run_time,
        "LOAD_TEST_SOURCE_RANGE": LOAD_TEST_SOURCE_RANGE,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    resources = {
        "requests": {"cpu": "500m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }
    manifests = job(
        name, arguments.release, "load-test", arguments.image, ["sh", "-c", script], files,
        resources, arguments.deadline, env,
    )  # fmt: skip
    return name, manifests


def dead_letter_days(text: str) -> int:
    days = int(text)
    if not 1 <= days <= DEAD_LETTER_MAX_AGE_DAYS:
        raise argparse.ArgumentTypeError(f"1 to {DEAD_LETTER_MAX_AGE_DAYS} days")
    return days


def dlq_command(arguments: argparse.Namespace) -> list[str]:
    command = ["intake", "dlq", arguments.action]
    if arguments.action == "purge":
        days = arguments.older_than_days or DEAD_LETTER_MAX_AGE_DAYS
        command += ["--older-than-days", str(days)]
        command += ["--dry-run"] if arguments.dry_run else []
    return command


def dead_letters(arguments: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    """On-call's `intake dlq list|replay|purge`, as the operator account (purge: admin-api's), in
    the image given or the one a Deployment of the release runs (a placeholder until run-job.sh
    reads it)."""
    run = arguments.run_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = dns_name(arguments.release, OPERATOR, "dlq", arguments.action, run)
    image = arguments.image or f"<the image of deployment/{image_source(arguments)}>"
    # The ConfigMap is the services' own (BUS, SERVICEBUS_NAMESPACE, SERVICEBUS_QUEUE); the
    # CLI exports no traces, and the App Insights connection string is no secret of this pod.
    env = {"OTEL_EXPORTER": "none", "PYTHONDONTWRITEBYTECODE": "1"}
    resources = {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    account = PURGE_ACCOUNT if arguments.action == "purge" else OPERATOR
    manifests = job(
        name, arguments.release, f"dlq-{arguments.action}", image, dlq_command(arguments), {},
        resources, arguments.deadline, env,
        labels=operator_labels(arguments.release, arguments.action),
        service_account=f"{arguments.release}-{account}",
        env_from=f"{arguments.release}-config",
    )  # fmt: skip
    return name, manifests


def image_source(arguments: argparse.Namespace) -> str:
    """The Deployment whose image a dlq Job runs when no --image is given."""
    return f"{arguments.release}-{arguments.image_from}"


def write_bundle(arguments: argparse.Namespace, name: str, items: list[dict[str, Any]]) -> None:
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    objects = list(items)
    if arguments.check != "dlq":
        objects = network_policies(arguments.release, arguments.check, arguments.api_port) + items
    for item in objects:
        item["metadata"]["namespace"] = arguments.namespace
    manifests = {"apiVersion": "v1", "kind": "List", "items": objects}
    (out / "manifests.json").write_text(json.dumps(manifests, indent=1) + "\n")
    shutil.copy(SCRIPTS / "cluster" / "run-job.sh", out / "run-job.sh")
    (out / "job-name").write_text(name + "\n")
    image_from = out / "image-from"
    image_from.unlink(missing_ok=True)
    if arguments.check == "dlq" and arguments.image is None:
        image_from.write_text(image_source(arguments) + "\n")


def stats(arguments: argparse.Namespace) -> int:
    """Cut the Locust stats CSV the load-test Job printed out of its log."""
    text = arguments.logs.read_text()
    if STATS_BEGIN not in text or STATS_END not in text:
        print("FAIL the load-test log holds no Locust stats (did the Job run to the end?)")
        return 1
    csv = text.split(STATS_BEGIN, 1)[1].split(STATS_END, 1)[0].strip("\n")
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(csv + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="check", required=True)
    for check in ("smoke", "load-test"):
        sub = commands.add_parser(check)
        sub.add_argument("--out", type=Path, required=True, help="bundle folder to write")
        sub.add_argument("--namespace", required=True)
        sub.add_argument("--release", default="onboarding")
        sub.add_argument("--image", required=True, help="image reference, pinned by digest")
        sub.add_argument("--api-port", type=int, default=8001)
    commands.choices["smoke"].add_argument("--run-id", required=True)
    commands.choices["smoke"].add_argument("--attempts", type=int, default=10)
    load = commands.choices["load-test"]
    load.add_argument("--users", type=int, default=100)
    load.add_argument("--spawn-rate", type=int, default=10)
    load.add_argument("--run-time", default="5m")
    load.add_argument("--deadline", type=int, default=900, help="seconds before the Job is killed")
    extract = commands.add_parser("stats")
    extract.add_argument("--logs", type=Path, required=True)
    extract.add_argument("--out", type=Path, required=True)
    dlq = commands.add_parser("dlq", help="on-call: intake dlq list|replay|purge")
    dlq.add_argument("action", choices=["list", "replay", "purge"])
    dlq.add_argument(
        "--older-than-days", type=dead_letter_days,
        help=f"purge: also remove dead letters whose event is older (default and most"
        f" {DEAD_LETTER_MAX_AGE_DAYS})",
    )  # fmt: skip
    dlq.add_argument("--dry-run", action="store_true", help="purge: say what would go, only")
    dlq.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    dlq.add_argument("--namespace", required=True)
    dlq.add_argument("--release", default="onboarding")
    dlq.add_argument("--image", help="image reference, pinned by digest (default: --image-from)")
    dlq.add_argument(
        "--image-from", choices=DLQ_IMAGE_FROM, default="notify",
        help="run the image this component's Deployment runs (default notify)",
    )  # fmt: skip
    dlq.add_argument("--deadline", type=int, default=300, help="seconds before the Job is killed")
    dlq.add_argument("--run-id", help="ends the Job's name (default: the UTC time)")
    arguments = parser.parse_args(argv)
    if arguments.check == "stats":
        return stats(arguments)
    purge_options = arguments.check == "dlq" and (
        arguments.dry_run or arguments.older_than_days is not None
    )
    if purge_options and arguments.action != "purge":
        parser.error("--dry-run and --older-than-days are for dlq purge")
    if arguments.image is not None and "@sha256:" not in arguments.image:
        parser.error(f"--image must be pinned by digest, got {arguments.image}")
    checks = {"smoke": smoke, "load-test": load_test, "dlq": dead_letters}
    name, items = checks[arguments.check](arguments)
    write_bundle(arguments, name, items)
    print(f"{arguments.check} bundle for job {name} in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
