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

`erasures list|reapply` is on-call's after a restore of the store (docs/runbooks.md, "Store
restored to an earlier point"): `intake erasures …` as a Job with the chart's ConfigMap (STORE,
BUS and the rest, as the retention job has them), as admin-api's account like a purge (its
identity holds Cosmos DB Built-in Data Contributor on the `intake` database), in admin-api's
image unless `--image` or `--image-from` says otherwise. `--cosmos-endpoint` points the Job at
another account than the chart's (the old one, or the restored one: that identity needs the
data role on it, and the cluster a private endpoint to it); `reapply` requires it, so that it
never runs against the store the services still use by mistake. `list` writes its file to the
pod's /tmp and prints it between markers that end with its line count and SHA-256, after
`intake`'s own count; `erasures-extract` cuts exactly those lines out of the Job's log, or fails
when the log lost any (command invoke keeps 512 kB of output, about 4,500 records). `reapply`
takes the file in its ConfigMap, mounted read-only, so at most about 1 MB (about 9,000 records):
a longer file is refused, to be split by lines and reapplied a part at a time. Both print the
Job's whole log, not its last 400 lines (the file `log-lines` of the bundle).

    python3 .github/scripts/cluster_jobs.py smoke --out bundle --namespace onboarding-dev \
        --image acr.azurecr.io/onboarding/intake-api@sha256:... --run-id 123-dev
    python3 .github/scripts/cluster_jobs.py load-test --out bundle --namespace onboarding-staging \
        --image docker.io/locustio/locust:2.47.0@sha256:... --users 100 --run-time 5m
    python3 .github/scripts/cluster_jobs.py stats --logs job.log --out load-results/locust_stats.csv
    python3 .github/scripts/cluster_jobs.py dlq list --out dlq --namespace onboarding-prod
    python3 .github/scripts/cluster_jobs.py dlq purge --dry-run --out dlq --namespace onboarding-dev
    python3 .github/scripts/cluster_jobs.py erasures list --since 2026-05-01T12:00:00Z \
        --out erasures-list --namespace onboarding-prod
    python3 .github/scripts/cluster_jobs.py erasures-extract --logs job.log --out erasures.jsonl
    python3 .github/scripts/cluster_jobs.py erasures reapply --file erasures.jsonl \
        --cosmos-endpoint https://restored.documents.azure.com:443/ --out erasures-reapply \
        --namespace onboarding-prod
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
from datetime import datetime
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
# intake_core.ports.lifetimes.DEAD_LETTER_MAX_AGE_DAYS (the notify ledger's lifetime); this script
# runs where the package is not installed.
DEAD_LETTER_MAX_AGE_DAYS = 30
# The checks whose Jobs are on-call's: the operator policy's pods, no NetworkPolicy of their own.
OPERATOR_CHECKS = ("dlq", "erasures")
# An erasures file in the reapply Job's ConfigMap: Kubernetes refuses an object over 1 MiB, and
# the ConfigMap's metadata and the Job's label are in it too.
ERASURES_FILE_MAX_BYTES = 1_000_000
ERASURES_FILE = "erasures.jsonl"
ERASURES_BEGIN = f"--- {ERASURES_FILE} ---"
ERASURES_END = re.compile(
    rf"^--- end of {re.escape(ERASURES_FILE)}: *(\d+) line\(s\), sha256 ([0-9a-f]{{64}}) ---$"
)
# intake_core.restore's fields of a line `intake erasures list` writes.
ERASURE_FIELDS = {"clientId", "erasedAt", "reason"}
# An account's endpoint, as the chart's config.cosmos.endpoint has it (Azure, US Gov, China).
COSMOS_ENDPOINT = re.compile(
    r"https://[a-z0-9][a-z0-9-]{1,42}[a-z0-9]\.documents\.azure\.(com|us|cn)(:443)?/?"
)


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


def operator_labels(release: str, operation: str) -> dict[str, str]:
    """The chart's selector labels of its operator component (its NetworkPolicy picks these)."""
    return {
        "app.kubernetes.io/name": CHART,
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": OPERATOR,
        "onboarding.example/operation": operation,
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
        labels=operator_labels(arguments.release, f"dlq-{arguments.action}"),
        service_account=f"{arguments.release}-{account}",
        env_from=f"{arguments.release}-config",
    )  # fmt: skip
    return name, manifests


def image_source(arguments: argparse.Namespace) -> str:
    """The Deployment whose image an on-call Job runs when no --image is given."""
    return f"{arguments.release}-{arguments.image_from}"


def restore_point(text: str) -> str:
    """--since as `intake erasures list` reads it (ISO 8601 with a UTC offset), normalised."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            "an ISO 8601 time with its UTC offset, as in 2026-05-01T12:00:00Z"
        )
    return moment.isoformat()


def cosmos_endpoint(text: str) -> str:
    if not COSMOS_ENDPOINT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"not a Cosmos DB account endpoint (https://<account>.documents.azure.com:443/): {text}"
        )
    return text


def erasures_file(path: Path) -> str:
    """The file `reapply` is given, if it can go into a ConfigMap and looks like what `list`
    wrote; `intake erasures reapply` checks it whole again in the pod, before erasing."""
    size = path.stat().st_size
    if size > ERASURES_FILE_MAX_BYTES:
        raise ValueError(
            f"{path} is {size} bytes; a Job's ConfigMap holds at most {ERASURES_FILE_MAX_BYTES}:"
            f" split it by lines (split -l 8000 {path} {path.stem}-part-) and reapply each part"
            " (a rerun erases only what is new)"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for number, line in lines:
        try:
            fields = json.loads(line)
        except ValueError:
            fields = None
        if not isinstance(fields, dict) or set(fields) != ERASURE_FIELDS:
            raise ValueError(
                f"{path}: line {number} is not a line `intake erasures list` writes (a Job's"
                " whole log? cut the file out of it with erasures-extract)"
            )
    if not lines:
        raise ValueError(f"{path} lists no erasure: nothing to reapply")
    return text


def erasures_script(arguments: argparse.Namespace) -> str:
    """The list Job's shell: the file, then its markers (after intake's count, on stderr)."""
    if arguments.action == "reapply":
        return f"exec intake erasures reapply /work/{ERASURES_FILE}"
    listed = f"$HOME/{ERASURES_FILE}"
    return "\n".join(
        [
            "set -eu",
            f'intake erasures list --since "$SINCE" > "{listed}"',
            f'lines=$(wc -l < "{listed}")',
            f'sum=$(sha256sum < "{listed}")',
            f'echo "{ERASURES_BEGIN}"',
            f'cat "{listed}"',
            f'echo "--- end of {ERASURES_FILE}: $lines line(s), sha256 ${{sum%% *}} ---"',
        ]
    )


def erasures(arguments: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    """On-call's `intake erasures list|reapply` after a restore, as admin-api's account."""
    run = arguments.run_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = dns_name(arguments.release, OPERATOR, "erasures", arguments.action, run)
    image = arguments.image or f"<the image of deployment/{image_source(arguments)}>"
    # As the dlq Jobs: the ConfigMap gives STORE, COSMOS_DATABASE, BUS and the rest; no traces.
    env = {"OTEL_EXPORTER": "none", "PYTHONDONTWRITEBYTECODE": "1"}
    if arguments.since is not None:
        env["SINCE"] = arguments.since
    if arguments.cosmos_endpoint is not None:
        env["COSMOS_ENDPOINT"] = arguments.cosmos_endpoint  # env wins over the ConfigMap's
    files = {ERASURES_FILE: erasures_file(arguments.file)} if arguments.action == "reapply" else {}
    resources = {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    manifests = job(
        name, arguments.release, f"erasures-{arguments.action}", image,
        ["sh", "-c", erasures_script(arguments)], files, resources, arguments.deadline, env,
        labels=operator_labels(arguments.release, f"erasures-{arguments.action}"),
        service_account=f"{arguments.release}-{PURGE_ACCOUNT}",
        env_from=f"{arguments.release}-config",
    )  # fmt: skip
    return name, manifests


def write_bundle(arguments: argparse.Namespace, name: str, items: list[dict[str, Any]]) -> None:
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    objects = list(items)
    if arguments.check not in OPERATOR_CHECKS:
        objects = network_policies(arguments.release, arguments.check, arguments.api_port) + items
    for item in objects:
        item["metadata"]["namespace"] = arguments.namespace
    manifests = {"apiVersion": "v1", "kind": "List", "items": objects}
    (out / "manifests.json").write_text(json.dumps(manifests, indent=1) + "\n")
    shutil.copy(SCRIPTS / "cluster" / "run-job.sh", out / "run-job.sh")
    (out / "job-name").write_text(name + "\n")
    image_from = out / "image-from"
    image_from.unlink(missing_ok=True)
    if arguments.check in OPERATOR_CHECKS and arguments.image is None:
        image_from.write_text(image_source(arguments) + "\n")
    log_lines = out / "log-lines"
    log_lines.unlink(missing_ok=True)
    if arguments.check == "erasures":
        log_lines.write_text("all\n")  # the whole list must come back, not its last lines


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


def erasures_extract(arguments: argparse.Namespace) -> int:
    """Cut the file the erasures list Job printed out of its log, checked against its count and
    SHA-256: only a whole file may be reapplied."""
    lines = [line.rstrip("\r") for line in arguments.logs.read_text().splitlines()]
    if ERASURES_BEGIN not in lines:
        print(f"FAIL the log holds no {ERASURES_FILE} (did the Job run to the end?)")
        return 1
    start = lines.index(ERASURES_BEGIN) + 1
    ends = [(n, found) for n in range(start, len(lines)) if (found := ERASURES_END.match(lines[n]))]
    if not ends:
        print(f"FAIL the log holds no end of {ERASURES_FILE}: it was cut short")
        return 1
    end, found = ends[0]
    listed = lines[start:end]
    count, digest = found.groups()
    text = "".join(line + "\n" for line in listed)
    if len(listed) != int(count) or hashlib.sha256(text.encode()).hexdigest() != digest:
        print(
            f"FAIL the log holds {len(listed)} line(s) of {ERASURES_FILE}, not the {count} the"
            " Job wrote (or not the same ones): list again"
        )
        return 1
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(text)
    print(f"{count} erasure(s) in {arguments.out}")
    return 0


def add_erasures(commands: Any) -> None:
    sub = commands.add_parser("erasures", help="on-call, after a restore: intake erasures …")
    sub.add_argument("action", choices=["list", "reapply"])
    sub.add_argument(
        "--since", type=restore_point, metavar="TIME",
        help="list: the restore point, ISO 8601 with its UTC offset (2026-05-01T12:00:00Z)",
    )  # fmt: skip
    sub.add_argument("--file", type=Path, help="reapply: the file erasures-extract wrote")
    sub.add_argument(
        "--cosmos-endpoint", type=cosmos_endpoint, metavar="URL",
        help="the account to read (list; default: the chart's) or erase on (reapply: required)",
    )  # fmt: skip
    sub.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    sub.add_argument("--namespace", required=True)
    sub.add_argument("--release", default="onboarding")
    sub.add_argument("--image", help="image reference, pinned by digest (default: --image-from)")
    sub.add_argument(
        "--image-from", choices=DLQ_IMAGE_FROM, default=PURGE_ACCOUNT,
        help=f"run the image this component's Deployment runs (default {PURGE_ACCOUNT})",
    )  # fmt: skip
    sub.add_argument("--deadline", type=int, default=600, help="seconds before the Job is killed")
    sub.add_argument("--run-id", help="ends the Job's name (default: the UTC time)")
    extract = commands.add_parser("erasures-extract", help="the erasures list Job's file")
    extract.add_argument("--logs", type=Path, required=True)
    extract.add_argument("--out", type=Path, required=True)


def erasures_problem(arguments: argparse.Namespace) -> str | None:
    """What is wrong with an erasures command line, if anything (reapply's file included)."""
    listing = arguments.action == "list"
    if listing and arguments.since is None:
        return "erasures list needs --since TIME (the restore point)"
    if listing and arguments.file is not None:
        return "--file is for erasures reapply"
    if not listing and arguments.since is not None:
        return "--since is for erasures list"
    if not listing and (arguments.file is None or arguments.cosmos_endpoint is None):
        return "erasures reapply needs --file and --cosmos-endpoint (the restored account)"
    if not 60 <= arguments.deadline <= 900:
        return "--deadline: 60 to 900 seconds (a reapply cut short resumes when run again)"
    if not listing:
        try:
            erasures_file(arguments.file)
        except OSError as error:
            return f"{arguments.file}: {error.strerror}"
        except ValueError as error:
            return str(error)
    return None


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
    add_erasures(commands)
    arguments = parser.parse_args(argv)
    if arguments.check == "stats":
        return stats(arguments)
    if arguments.check == "erasures-extract":
        return erasures_extract(arguments)
    if arguments.check == "erasures":
        problem = erasures_problem(arguments)
        if problem:
            parser.error(problem)
    purge_options = arguments.check == "dlq" and (
        arguments.dry_run or arguments.older_than_days is not None
    )
    if purge_options and arguments.action != "purge":
        parser.error("--dry-run and --older-than-days are for dlq purge")
    if arguments.image is not None and "@sha256:" not in arguments.image:
        parser.error(f"--image must be pinned by digest, got {arguments.image}")
    checks = {"smoke": smoke, "load-test": load_test, "dlq": dead_letters, "erasures": erasures}
    name, items = checks[arguments.check](arguments)
    write_bundle(arguments, name, items)
    print(f"{arguments.check} bundle for job {name} in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
