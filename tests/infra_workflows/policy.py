"""The workflow rules, as small functions returning violations (empty list = compliant).

Permission rule: every workflow has a workflow-level ``permissions`` block that grants nothing
beyond read (``contents: read`` or ``{}``), AND every job declares its own ``permissions``, so
what a job may do is written next to the job. Write scopes must be justified by the job:
``id-token: write`` only where an OIDC consumer runs (azure/login or cosign), and
``security-events: write`` only where SARIF is uploaded, directly or in the called workflow.
``timeout-minutes`` is required on every job that runs steps; a job that calls a reusable
workflow cannot carry one, and the called workflow's jobs must.

Cluster rule: the AKS API server admits only its authorized IP ranges, so a job that signs in to
Azure never runs kubectl, helm or kubelogin on the runner, nor fetches a kubeconfig: cluster
commands go through `az aks command invoke` (`.github/scripts/aks_run.py`). Jobs without
azure/login (the kind cluster of kind-e2e.yml) may use kubectl and helm freely.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"

USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<ref>[^\s#]+)\s*(?P<comment>#.*)?$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^#\s*v\d+(\.\d+)*\b")
SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.")
OIDC_ACTIONS = ("azure/login@", "sigstore/cosign-installer@")
SARIF_ACTION = "github/codeql-action/upload-sarif@"
PR_HEAD = re.compile(r"github\.(event\.pull_request\.head|head_ref)")
# A command word at the start of a shell command: line start, or after ; & | ( $( then do else.
CLUSTER_CLIENT = re.compile(
    r"(?:^|[;&|(]|\$\(|\b(?:then|do|else)\b)\s*(?:sudo\s+)?(kubectl|helm|kubelogin)\b"
)
KUBECONFIG_FETCH = re.compile(r"\baz\s+aks\s+get-credentials\b")
KUBECONFIG_ACTIONS = ("azure/use-kubelogin@", "azure/aks-set-context@", "azure/k8s-set-context@")


def load(path: Path) -> dict[str, Any]:
    return load_text(path.read_text())


def load_text(text: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(text)
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on") or {}
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def unpinned_uses(text: str) -> list[str]:
    """Every `uses:` names a full 40-hex commit SHA followed by a `# vX.Y.Z` comment."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref, comment = match["ref"].strip("'\""), (match["comment"] or "")
        if ref.startswith("./"):
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                found.append(f"line {number}: docker action not pinned by digest: {ref}")
            continue
        if not PINNED.match(ref):
            found.append(f"line {number}: not pinned to a commit SHA: {ref}")
        elif not VERSION_COMMENT.match(comment):
            found.append(f"line {number}: pinned SHA without a '# vX.Y.Z' comment: {ref}")
    return found


def permission_violations(workflow: dict[str, Any]) -> list[str]:
    found = []
    top = workflow.get("permissions")
    if top is None:
        found.append("no workflow-level permissions block")
    elif isinstance(top, str) or any(value not in ("read", "none") for value in top.values()):
        found.append(f"workflow-level permissions must grant read at most, got {top!r}")
    for name, job in (workflow.get("jobs") or {}).items():
        if "permissions" not in job:
            found.append(f"job {name}: no job-level permissions")
        elif isinstance(job["permissions"], str):
            found.append(f"job {name}: permissions must be a mapping, got {job['permissions']!r}")
    return found


def timeout_violations(workflow: dict[str, Any]) -> list[str]:
    return [
        f"job {name}: no timeout-minutes"
        for name, job in (workflow.get("jobs") or {}).items()
        if "uses" not in job and "timeout-minutes" not in job
    ]


def _job_actions(job: dict[str, Any]) -> list[str]:
    actions = [str(step.get("uses", "")) for step in job.get("steps") or []]
    called = str(job.get("uses", ""))
    if called.startswith("./"):
        callee = load(ROOT / called)
        for inner in (callee.get("jobs") or {}).values():
            actions += _job_actions(inner)
    return actions


def write_scope_violations(workflow: dict[str, Any]) -> list[str]:
    found = []
    for name, job in (workflow.get("jobs") or {}).items():
        permissions = job.get("permissions") or {}
        if not isinstance(permissions, dict):
            continue
        actions = _job_actions(job)
        if permissions.get("id-token") == "write" and not any(
            action.startswith(OIDC_ACTIONS) for action in actions
        ):
            found.append(f"job {name}: id-token: write without an OIDC consumer")
        if permissions.get("security-events") == "write" and not any(
            action.startswith(SARIF_ACTION) for action in actions
        ):
            found.append(f"job {name}: security-events: write without a SARIF upload")
    return found


def direct_cluster_access_violations(workflow: dict[str, Any]) -> list[str]:
    """Jobs that sign in to Azure reach the cluster only through az aks command invoke."""
    found = []
    for name, job in (workflow.get("jobs") or {}).items():
        steps = job.get("steps") or []
        if not any(str(step.get("uses", "")).startswith("azure/login@") for step in steps):
            continue
        for step in steps:
            uses = str(step.get("uses", ""))
            if uses.startswith(KUBECONFIG_ACTIONS):
                found.append(f"job {name}: {uses.split('@')[0]} talks to the API server directly")
            for line in str(step.get("run", "")).splitlines():
                code = line.split(" #", 1)[0].strip()
                if code.startswith("#"):
                    continue
                if KUBECONFIG_FETCH.search(code):
                    found.append(f"job {name}: fetches a kubeconfig: {code}")
                elif match := CLUSTER_CLIENT.search(code):
                    found.append(f"job {name}: runs {match[1]} on the runner: {code}")
    return found


def pull_request_target_violations(workflow: dict[str, Any]) -> list[str]:
    if "pull_request_target" not in triggers(workflow):
        return []
    found = []
    for name, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            if str(step.get("uses", "")).startswith("actions/checkout@") and PR_HEAD.search(
                str((step.get("with") or {}).get("ref", ""))
            ):
                found.append(f"job {name}: pull_request_target checks out the pull request's code")
    return found


def secret_echo_violations(workflow: dict[str, Any]) -> list[str]:
    """Secrets reach scripts through env only, and are never printed."""
    found = []
    for name, job in (workflow.get("jobs") or {}).items():
        secret_env = {
            key
            for scope in (workflow.get("env") or {}, job.get("env") or {})
            for key, value in scope.items()
            if SECRET_EXPR.search(str(value))
        }
        for step in job.get("steps") or []:
            script = str(step.get("run", ""))
            names = secret_env | {
                key
                for key, value in (step.get("env") or {}).items()
                if SECRET_EXPR.search(str(value))
            }
            if SECRET_EXPR.search(script):
                found.append(f"job {name}: a secret expression inside run: (use env)")
            for line in script.splitlines():
                if re.search(r"\b(echo|printf)\b", line) and any(
                    re.search(rf"\$\{{?{re.escape(key)}\b", line) for key in names
                ):
                    found.append(f"job {name}: prints a secret: {line.strip()}")
    return found


def checkout_credential_violations(workflow: dict[str, Any]) -> list[str]:
    """actions/checkout keeps no token on disk unless the job is allowed to push."""
    found = []
    for name, job in (workflow.get("jobs") or {}).items():
        may_push = (job.get("permissions") or {}).get("contents") == "write"
        for step in job.get("steps") or []:
            if not str(step.get("uses", "")).startswith("actions/checkout@"):
                continue
            if (step.get("with") or {}).get("persist-credentials") is not False and not may_push:
                found.append(f"job {name}: checkout without persist-credentials: false")
    return found


def concurrency_violations(workflow: dict[str, Any]) -> list[str]:
    if set(triggers(workflow)) == {"workflow_call"}:
        return []  # a reusable workflow runs inside its caller's concurrency group
    return [] if "concurrency" in workflow else ["no concurrency group"]


def latest_tag_violations(text: str) -> list[str]:
    return [
        f"line {number}: uses the mutable 'latest' tag"
        for number, line in enumerate(text.splitlines(), start=1)
        if re.search(r":latest\b", line) and not line.lstrip().startswith("#")
    ]


def all_violations(path: Path) -> list[str]:
    text = path.read_text()
    workflow = load(path)
    return (
        unpinned_uses(text)
        + latest_tag_violations(text)
        + permission_violations(workflow)
        + timeout_violations(workflow)
        + write_scope_violations(workflow)
        + pull_request_target_violations(workflow)
        + direct_cluster_access_violations(workflow)
        + secret_echo_violations(workflow)
        + checkout_credential_violations(workflow)
        + concurrency_violations(workflow)
    )
