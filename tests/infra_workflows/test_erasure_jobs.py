"""On-call's erasures Jobs after a restore of the store (cluster_jobs.py erasures): the bundles,
their arguments, and a list Job's log cut back into a file `intake erasures reapply` accepts, run
for real on SQLite stores."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from infra_workflows import policy
from infra_workflows.helpers import fake_cli, run_script

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission
from intake_core.settings import CommonSettings, ReadCacheSettings
from support import make_submission

pytestmark = pytest.mark.infra

RESTORED = "https://cosmos-onboarding-staging-r1.documents.azure.com:443/"
LINE = {"clientId": "CL-7K2M-9QXR-4TPW", "erasedAt": "2026-05-20T09:30:00.000000+00:00"}


def erasures_bundle(
    tmp_path: Path, action: str, *extra: str, name: str | None = None
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / (name or f"erasures-{action}")
    result = run_script(
        "cluster_jobs.py", "erasures", action, "--out", str(out),
        "--namespace", "onboarding-staging", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    by_kind: dict[str, Any] = {}
    for item in json.loads((out / "manifests.json").read_text())["items"]:
        by_kind.setdefault(item["kind"], []).append(item)
        assert item["metadata"]["namespace"] == "onboarding-staging"
    return out, by_kind


def erasures_file(tmp_path: Path, *lines: dict[str, Any]) -> Path:
    path = tmp_path / "erasures.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def rendered(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def test_the_erasures_jobs_run_as_the_retention_jobs_account_under_the_operator_policy(
    tmp_path: Path, rendered_staging: list[dict[str, Any]]
) -> None:
    """Both read or erase in the store: admin-api's identity holds the Cosmos DB data role
    (infra/bicep cosmos.bicep), as the retention CronJob runs. Nothing but the Job (and reapply's
    ConfigMap): the chart's operator policy lets the pods reach the private endpoints."""
    (cron,) = [d for d in rendered_staging if d["kind"] == "CronJob"]
    retention = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    operator_policy = rendered(rendered_staging, "NetworkPolicy", "onboarding-operator")
    reapply = erasures_file(tmp_path, {**LINE, "reason": None})
    bundles = [
        erasures_bundle(tmp_path, "list", "--since", "2026-05-01T12:00:00Z", "--run-id", "inc-7"),
        erasures_bundle(
            tmp_path, "reapply", "--file", str(reapply), "--cosmos-endpoint", RESTORED,
            "--run-id", "inc-7",
        ),
    ]  # fmt: skip
    for (out, manifests), action in zip(bundles, ("list", "reapply"), strict=True):
        assert set(manifests) == ({"Job"} if action == "list" else {"Job", "ConfigMap"})
        (job,) = manifests["Job"]
        assert job["metadata"]["name"] == f"onboarding-operator-erasures-{action}-inc-7"
        assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] <= 900
        pod = job["spec"]["template"]
        assert pod["spec"]["serviceAccountName"] == retention["serviceAccountName"]
        account = rendered(rendered_staging, "ServiceAccount", pod["spec"]["serviceAccountName"])
        assert account["metadata"]["labels"]["app.kubernetes.io/component"] == "admin-api"
        assert account["metadata"]["annotations"]["azure.workload.identity/client-id"]
        assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        labels = pod["metadata"]["labels"]
        assert operator_policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        for doc in rendered_staging:
            if doc["kind"] == "Service":
                assert not doc["spec"]["selector"].items() <= labels.items()
        # Locked down as every Job of ours: non-root, read-only, no API token, bounded.
        spec = pod["spec"]
        (container,) = spec["containers"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]
        # admin-api's image as deployed, and its whole log back.
        assert (out / "image-from").read_text().strip() == "onboarding-admin-api"
        assert (out / "log-lines").read_text().strip() == "all"


def test_the_reapply_job_mounts_the_file_read_only_and_erases_on_the_account_named(
    tmp_path: Path,
) -> None:
    path = erasures_file(tmp_path, {**LINE, "reason": "subject-request"})
    image = "acr.azurecr.io/onboarding/admin-api@sha256:" + "b" * 64
    out, manifests = erasures_bundle(
        tmp_path, "reapply", "--file", str(path), "--cosmos-endpoint", RESTORED, "--image", image
    )
    (config,) = manifests["ConfigMap"]
    (job,) = manifests["Job"]
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["image"] == image and not (out / "image-from").exists()
    assert container["command"] == ["sh", "-c", "exec intake erasures reapply /work/erasures.jsonl"]
    env = {entry["name"]: entry["value"] for entry in container["env"]}
    assert env["COSMOS_ENDPOINT"] == RESTORED and "SINCE" not in env
    assert container["envFrom"] == [{"configMapRef": {"name": "onboarding-config"}}]
    # The file, byte for byte, under /work: mounted read-only from the Job's own ConfigMap.
    (work,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/work"]
    assert work["readOnly"] is True
    (volume,) = [v for v in spec["volumes"] if v["name"] == work["name"]]
    assert volume["configMap"]["name"] == config["metadata"]["name"]
    (item,) = volume["configMap"]["items"]
    assert item["path"] == "erasures.jsonl"
    assert config["data"][item["key"]] == path.read_text()


def test_the_erasures_jobs_settings_are_the_retention_jobs_with_the_account_named(
    tmp_path: Path, rendered_staging: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chart's ConfigMap (STORE, COSMOS_DATABASE, BUS: the retention job's) with the Job's
    env on top: COSMOS_ENDPOINT only when given; no cache outside dev, as admin-api has none."""
    config = rendered(rendered_staging, "ConfigMap", "onboarding-config")["data"]
    path = erasures_file(tmp_path, {**LINE, "reason": None})
    _, listed = erasures_bundle(tmp_path, "list", "--since", "2026-05-01T14:00:00+02:00")
    _, reapplied = erasures_bundle(
        tmp_path, "reapply", "--file", str(path), "--cosmos-endpoint", RESTORED
    )
    settings = []
    for manifests, cls in ((listed, CommonSettings), (reapplied, ReadCacheSettings)):
        (container,) = manifests["Job"][0]["spec"]["template"]["spec"]["containers"]
        (source,) = container["envFrom"]
        assert source["configMapRef"]["name"] == "onboarding-config"
        monkeypatch.setattr(
            os, "environ", {**config, **{e["name"]: e["value"] for e in container["env"]}}
        )
        settings.append(cls())
    old, restored = settings
    assert old.store == restored.store == "cosmos"
    assert old.cosmos_endpoint == config["COSMOS_ENDPOINT"]
    assert isinstance(restored, ReadCacheSettings)
    assert restored.cosmos_endpoint == RESTORED and restored.bus == "servicebus"
    assert restored.cache == "none"
    (container,) = listed["Job"][0]["spec"]["template"]["spec"]["containers"]
    env = {entry["name"]: entry["value"] for entry in container["env"]}
    assert env["SINCE"] == "2026-05-01T14:00:00+02:00"


@pytest.mark.parametrize(
    ("action", "extra", "message"),
    [
        ("list", (), "erasures list needs --since TIME"),
        ("list", ("--since", "2026-05-01T12:00"), "ISO 8601 time with its UTC offset"),
        ("list", ("--since", "yesterday"), "ISO 8601 time with its UTC offset"),
        ("list", ("--since", "2026-05-01T12:00Z", "--file", "x"), "--file is for erasures reapply"),
        ("reapply", ("--since", "2026-05-01T12:00Z"), "--since is for erasures list"),
        ("reapply", ("--file", "{file}"), "needs --file and --cosmos-endpoint"),
        ("reapply", ("--cosmos-endpoint", RESTORED), "needs --file and --cosmos-endpoint"),
        (
            "reapply",
            ("--file", "{file}", "--cosmos-endpoint", RESTORED.replace("https", "http")),
            "not a Cosmos DB account endpoint",
        ),
        (
            "reapply",
            ("--file", "{file}", "--cosmos-endpoint", "https://cosmos.example.com/"),
            "not a Cosmos DB account endpoint",
        ),
        (
            "list",
            (
                "--since",
                "2026-05-01T12:00Z",
                "--cosmos-endpoint",
                "https://a.documents.azure.com@evil/",
            ),
            "not a Cosmos DB account endpoint",
        ),
        (
            "list",
            ("--since", "2026-05-01T12:00Z", "--image", "acr.azurecr.io/onboarding/admin-api:1"),
            "pinned by digest",
        ),
        ("list", ("--since", "2026-05-01T12:00Z", "--deadline", "3600"), "60 to 900 seconds"),
        ("reapply", ("--file", "{missing}", "--cosmos-endpoint", RESTORED), "No such file"),
    ],
)
def test_erasures_arguments_are_checked_before_any_bundle_is_written(
    tmp_path: Path, action: str, extra: tuple[str, ...], message: str
) -> None:
    path = erasures_file(tmp_path, {**LINE, "reason": None})
    values = {"file": str(path), "missing": str(tmp_path / "nowhere.jsonl")}
    out = tmp_path / "bundle"
    result = run_script(
        "cluster_jobs.py", "erasures", action, "--out", str(out), "--namespace", "x",
        *(part.format(**values) for part in extra),
    )  # fmt: skip
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "lists no erasure: nothing to reapply"),
        ("\n\n", "lists no erasure: nothing to reapply"),
        (
            "job onboarding-operator-erasures-list-1: image of deployment/onboarding-admin-api\n",
            "line 1 is not a line `intake erasures list` writes (a Job's whole log?",
        ),
        (json.dumps({**LINE, "reason": None, "note": "T-42"}) + "\n", "line 1 is not a line"),
        (json.dumps({**LINE, "reason": None}) + "\n[1, 2]\n", "line 2 is not a line"),
    ],
)
def test_a_file_that_is_not_what_list_wrote_is_refused_before_the_job(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "erasures.jsonl"
    path.write_text(content)
    result = run_script(
        "cluster_jobs.py", "erasures", "reapply", "--file", str(path), "--cosmos-endpoint",
        RESTORED, "--out", str(tmp_path / "bundle"), "--namespace", "x",
    )  # fmt: skip
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_file_over_a_config_maps_size_is_refused_with_how_to_split_it(tmp_path: Path) -> None:
    line = json.dumps({**LINE, "reason": "consent-withdrawn"}) + "\n"
    path = tmp_path / "erasures.jsonl"
    path.write_text(line * (1_000_000 // len(line) + 1))
    result = run_script(
        "cluster_jobs.py", "erasures", "reapply", "--file", str(path), "--cosmos-endpoint",
        RESTORED, "--out", str(tmp_path / "bundle"), "--namespace", "x",
    )  # fmt: skip
    assert result.returncode == 2
    assert "a Job's ConfigMap holds at most 1000000" in result.stderr
    assert f"split -l 8000 {path}" in result.stderr
    # Under the limit it goes in whole (8,000 of the longest lines still fit).
    path.write_text(line * 8000)
    _, manifests = erasures_bundle(
        tmp_path, "reapply", "--file", str(path), "--cosmos-endpoint", RESTORED
    )
    (config,) = manifests["ConfigMap"]
    assert len(json.dumps(config).encode()) < 1024 * 1024


# -- the list Job's log, cut back into the file: with SQLite stores and the real CLI -------------


def listed_block(*lines: str) -> str:
    text = "".join(line + "\n" for line in lines)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"--- erasures.jsonl ---\n{text}--- end of erasures.jsonl: {len(lines)} line(s), sha256 {digest} ---\n"


def extract(tmp_path: Path, log_text: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    log = tmp_path / "erasures-list.log"
    log.write_text(log_text)
    out = tmp_path / "extracted" / "erasures.jsonl"
    return run_script(
        "cluster_jobs.py", "erasures-extract", "--logs", str(log), "--out", str(out)
    ), out


def test_extraction_takes_exactly_the_lines_the_job_wrote_and_refuses_a_cut_log(
    tmp_path: Path,
) -> None:
    lines = [json.dumps({**LINE, "reason": reason}) for reason in (None, "retention")]
    noise = "job onboarding-operator-erasures-list-1: image of deployment/onboarding-admin-api: x\n"
    noise += "job.batch/onboarding-operator-erasures-list-1 created\n"
    noise += "2 record(s) erased since 2026-05-01T12:00:00+00:00 on the cosmos store\n"
    trailer = "job onboarding-operator-erasures-list-1: succeeded\n"
    whole = noise + listed_block(*lines) + trailer
    for text in (whole, whole.replace("\n", "\r\n")):  # as a log may come from a Windows shell
        result, out = extract(tmp_path, text)
        assert result.returncode == 0, result.stdout
        assert out.read_text() == "".join(line + "\n" for line in lines)
        assert "2 erasure(s) in" in result.stdout
    empty, out = extract(tmp_path, noise + listed_block() + trailer)
    assert empty.returncode == 0 and out.read_text() == ""

    block = listed_block(*lines)
    cut = [
        (trailer, "holds no erasures.jsonl"),  # the Job failed before printing it
        (noise + block.split(lines[1])[0], "holds no end of erasures.jsonl"),  # cut short
        (
            noise + block.replace(lines[0] + "\n", ""),
            "holds 1 line(s) of erasures.jsonl, not the 2",
        ),
        (noise + block.replace("retention", "not-needed"), "(or not the same ones)"),
        (block.replace("--- erasures.jsonl ---\n", ""), "holds no erasures.jsonl"),  # tail lost it
    ]
    for text, message in cut:
        out.unlink(missing_ok=True)
        result, out = extract(tmp_path, text)
        assert result.returncode == 1 and message in result.stdout, result.stdout
        assert not out.exists()


def intake(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake_core.cli", *arguments],
        env={**os.environ, "INTAKE_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def saved_in(store: SqliteSubmissionStore) -> Submission:
    submission = make_submission()
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, submission_created(submission), audit)
    return submission


def job_command(
    container: dict[str, Any], home: Path, data_dir: Path
) -> subprocess.CompletedProcess[str]:
    """The Job's command as the pod runs it (its env, the intake CLI on PATH, /tmp its HOME),
    on the embedded adapters of ``data_dir``; stdout and stderr in one log, as kubectl shows."""
    env = {e["name"]: e["value"] for e in container["env"]} | {"HOME": str(home)}
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env |= {"INTAKE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        container["command"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=60, check=False,
    )  # fmt: skip


async def test_a_list_jobs_log_becomes_a_file_the_reapply_job_accepts(tmp_path: Path) -> None:
    live, restored = tmp_path / "live", tmp_path / "restored"
    restored.mkdir()
    store = SqliteSubmissionStore(live / "intake.db")
    await store.open()
    ada, grace = [await saved_in(store) for _ in range(2)]
    await store.close()
    with (
        contextlib.closing(sqlite3.connect(live / "intake.db")) as source,
        contextlib.closing(sqlite3.connect(restored / "intake.db")) as backup,
    ):
        source.backup(backup)
    since = datetime.now(UTC).isoformat()
    store = SqliteSubmissionStore(live / "intake.db")
    await store.open()
    for submission, reason in ((ada, "subject-request"), (grace, "retention")):
        entry = AuditEntry(
            AuditAction.ERASE, "dpo@example.com", datetime.now(UTC), submission.client_id,
            {"reason": reason},
        )  # fmt: skip
        await store.erase(submission.client_id, entry)
    await store.close()

    _, listing = erasures_bundle(tmp_path, "list", "--since", since)
    (container,) = listing["Job"][0]["spec"]["template"]["spec"]["containers"]
    home = tmp_path / "pod-tmp"
    home.mkdir()
    ran = job_command(container, home, live)
    assert ran.returncode == 0, ran.stdout
    assert "2 record(s) erased since" in ran.stdout  # intake's count, in the log too
    log = f"job onboarding-operator-erasures-list-1: image of deployment/x: y\n{ran.stdout}"
    log += "job onboarding-operator-erasures-list-1: succeeded\n"
    extracted, path = extract(tmp_path, log)
    assert extracted.returncode == 0, extracted.stdout
    assert path.read_text() == intake(live, "erasures", "list", "--since", since).stdout

    _, reapply = erasures_bundle(
        tmp_path, "reapply", "--file", str(path), "--cosmos-endpoint", RESTORED
    )
    work = tmp_path / "work"
    (config,) = reapply["ConfigMap"]
    volume = reapply["Job"][0]["spec"]["template"]["spec"]["volumes"][0]["configMap"]
    for item in volume["items"]:
        (work / item["path"]).parent.mkdir(parents=True, exist_ok=True)
        (work / item["path"]).write_text(config["data"][item["key"]])
    (container,) = reapply["Job"][0]["spec"]["template"]["spec"]["containers"]
    container["command"] = [part.replace("/work", str(work)) for part in container["command"]]
    done = job_command(container, home, restored)
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "reapplied": 2, "alreadyErased": 0, "notFound": 0, "queueMessagesPurged": 0,
        "cachedCopiesLeft": 0,
    }  # fmt: skip
    assert intake(restored, "audit", "verify").returncode == 0


# -- the runbook's commands, run as they are (a fake az stands in for Azure) --------------------

FAKE_AZ = """
import json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_STATE"])
args = sys.argv[1:]
with (state / "calls.jsonl").open("a") as calls:
    calls.write(json.dumps({"args": args, "cwd": os.getcwd()}) + "\\n")
if args[:3] == ["aks", "command", "invoke"]:
    (state / "bundle").write_text(Path(os.getcwd()).name)
    print("command id: 0a3991475d9744fcbfdc2595b40e517f, started at: None, status: Running")
    sys.exit(0)
if args[:3] == ["aks", "command", "result"]:
    log = Path(os.environ["FAKE_LOGS"]) / (state / "bundle").read_text()
    print(json.dumps({"provisioningState": "Succeeded", "exitCode": 0, "logs": log.read_text()}))
    sys.exit(0)
if args[:2] == ["cosmosdb", "show"]:
    print("https://" + args[args.index("--name") + 1] + ".documents.azure.com:443/")
    sys.exit(0)
sys.exit(2)
"""


def test_the_runbook_commands_list_extract_and_reapply(tmp_path: Path) -> None:
    """docs/runbooks.md's erasures blocks after its dead-letter block's NS, RG and AKS: a list
    bundle, its log cut into erasures.jsonl, and a reapply bundle with that file, on the
    restored account."""
    text = (policy.ROOT / "docs" / "runbooks.md").read_text()
    blocks = [textwrap.dedent(b) for _, b in re.findall(r"(?ms)^( *)```bash\n(.*?)^\1```", text)]
    (names,) = [b for b in blocks if "cluster_jobs.py dlq list" in b]
    found = [b for b in blocks if "cluster_jobs.py erasures" in b]
    assert len(found) == 2, "a list block and a reapply block"
    work = tmp_path / "checkout"
    work.mkdir()
    (work / ".github").symlink_to(policy.ROOT / ".github")
    state, logs = tmp_path / "state", tmp_path / "logs"
    state.mkdir()
    logs.mkdir()
    lines = [json.dumps({**LINE, "reason": "subject-request"})]
    (logs / "erasures-list").write_text(
        "1 record(s) erased since 2026-05-01T12:00:00+00:00 on the cosmos store\n"
        + listed_block(*lines) + "job onboarding-operator-erasures-list-1: succeeded\n"
    )  # fmt: skip
    (logs / "erasures-reapply").write_text('{"reapplied": 1}\n')
    az = fake_cli(tmp_path, "az", FAKE_AZ)
    env = {**os.environ, "AZ": str(az), "FAKE_STATE": str(state), "FAKE_LOGS": str(logs)}
    env |= {"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}  # `az cosmosdb show`
    env |= {"RESTORED_ACCOUNT": "cosmos-intake-prd-r1"}
    setting = next(line for line in names.splitlines() if line.startswith("NS="))
    script = "set -euo pipefail\n" + setting + "\n" + "\n".join(found)
    result = subprocess.run(
        ["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=120, env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (work / "erasures.jsonl").read_text() == lines[0] + "\n"
    calls = [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
    invoked = [call for call in calls if call["args"][:3] == ["aks", "command", "invoke"]]
    assert [Path(call["cwd"]).name for call in invoked] == ["erasures-list", "erasures-reapply"]
    for call in invoked:
        args = call["args"]
        assert args[args.index("--command") + 1] == "bash run-job.sh onboarding-prod 720"
        assert args[args.index("--name") + 1] == "aks-intake-prod-eus"
    reapply = json.loads((work / "erasures-reapply" / "manifests.json").read_text())["items"]
    (config,) = [item for item in reapply if item["kind"] == "ConfigMap"]
    assert list(config["data"].values()) == [lines[0] + "\n"]
    (job,) = [item for item in reapply if item["kind"] == "Job"]
    env_of = {
        e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env_of["COSMOS_ENDPOINT"] == "https://cosmos-intake-prd-r1.documents.azure.com:443/"
