#!/usr/bin/env python3
"""Run one shell command inside the AKS cluster with `az aks command invoke`, standard library only.

The API server accepts only the authorized IP ranges, so GitHub-hosted runners never talk to it:
AKS starts a pod in the `aks-command` namespace (kubectl, helm, bash, jq) that runs the command
as the caller's Entra identity. Two things of `az aks command invoke` this script works around:

- it does not pass the command's exit code on (Azure/azure-cli#23808): the result's `exitCode`
  becomes this script's exit code;
- without `--no-wait` the CLI waits at most 300 s for the result, so a `helm --wait` or a load
  test would be cut short: the command is started with `--no-wait` and its result polled with
  `az aks command result` until it is done or `--timeout` passes.

Attached files: the folder given with `--bundle` is attached whole (`--file .` from inside it,
which keeps its layout; single files would be flattened). The command's output is limited to
512 kB by AKS: keep it short. `--logs FILE` also writes it to a file for later steps.

    python3 .github/scripts/aks_run.py --resource-group RG --cluster NAME \
        [--bundle DIR] [--logs FILE] [--timeout 900] -- 'bash deploy.sh'
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

COMMAND_ID = re.compile(r"command id: (\w+)")
DONE = {"Succeeded", "Failed", "Canceled"}


class RunFailure(Exception):
    """The command could not be started, or its result could not be read."""


def az(arguments: list[str], cwd: Path | None = None) -> str:
    executable = os.environ.get("AZ", "az")
    result = subprocess.run(  # noqa: S603 - fixed executable, arguments from the workflow
        [executable, *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RunFailure(f"az {' '.join(arguments[:3])} failed: {result.stderr.strip()}")
    return result.stdout


def start(group: str, cluster: str, command: str, bundle: Path | None) -> str:
    arguments = ["aks", "command", "invoke", "--resource-group", group, "--name", cluster]
    arguments += ["--command", command, "--no-wait"]
    if bundle is not None:
        arguments += ["--file", "."]
    printed = az(arguments, cwd=bundle)
    found = COMMAND_ID.search(printed)
    if not found:
        raise RunFailure(f"no command id in the answer of az aks command invoke: {printed!r}")
    return found[1]


def result(group: str, cluster: str, command_id: str) -> dict[str, Any] | None:
    """The finished result, or None while the command runs (the CLI then prints text, not JSON)."""
    arguments = ["aks", "command", "result", "--resource-group", group, "--name", cluster]
    printed = az([*arguments, "--command-id", command_id, "--output", "json"])
    try:
        answer = json.loads(printed)
    except json.JSONDecodeError:
        return None
    if not isinstance(answer, dict) or answer.get("provisioningState") not in DONE:
        return None
    return answer


def run(arguments: argparse.Namespace) -> int:
    command_id = start(
        arguments.resource_group, arguments.cluster, arguments.command, arguments.bundle
    )
    print(f"::notice::aks command {command_id} started: {arguments.command}", flush=True)
    deadline = time.monotonic() + arguments.timeout
    while (answer := result(arguments.resource_group, arguments.cluster, command_id)) is None:
        if time.monotonic() > deadline:
            print(f"::error::aks command {command_id} still running after {arguments.timeout} s")
            return 124
        time.sleep(arguments.poll)
    logs = str(answer.get("logs") or "")
    print(logs, end="" if logs.endswith("\n") else "\n")
    if arguments.logs is not None:
        arguments.logs.write_text(logs)
    if answer.get("provisioningState") != "Succeeded":
        print(f"::error::aks command {command_id}: {answer.get('reason') or 'failed to run'}")
        return 1
    code = int(answer.get("exitCode") or 0)
    if code != 0:
        print(f"::error::aks command {command_id} exited with {code}")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resource-group", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument(
        "--bundle", type=Path, help="folder attached to the command (its layout kept)"
    )
    parser.add_argument("--logs", type=Path, help="also write the command's output here")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the result")
    parser.add_argument("--poll", type=float, default=10, help="seconds between result polls")
    parser.add_argument("command", help="shell command run in the cluster (after --)")
    arguments = parser.parse_args(argv)
    if arguments.bundle is not None and not arguments.bundle.is_dir():
        parser.error(f"--bundle {arguments.bundle} is not a folder")
    try:
        return run(arguments)
    except RunFailure as failure:
        print(f"::error::{failure}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
