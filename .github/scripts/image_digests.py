#!/usr/bin/env python3
"""Resolve each chart service's image tag to the digest its keyless signature covers (stdlib only).

For every entry of the chart's `services` (values.yaml, then the environment's values file, both
converted to JSON first, e.g. with `yq -o=json`), `cosign verify` checks that
`<registry>/<repository>:<tag>` was signed by this repository's build-image.yml on main, and the
digest named in the verified signature is written as `services.<name>.image.digest` to a values
file for `helm upgrade --values`. The chart then renders `<registry>/<repository>@<digest>`, so
the pods run exactly the bytes that were scanned and signed, whatever happens to the tag later.
An image without a valid signature stops the deployment here.

    python3 .github/scripts/image_digests.py --values values.json --values values-prod.json \
        --registry acr.azurecr.io --tag <sha> --identity <certificate identity> --out digests.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


class DigestFailure(Exception):
    """An image is missing, unsigned, signed by someone else, or its signatures disagree."""


def repositories(values_files: list[Path]) -> dict[str, str]:
    """service key -> image repository; later files override earlier ones; disabled left out."""
    merged: dict[str, dict[str, Any]] = {}
    for path in values_files:
        services = (json.loads(path.read_text()) or {}).get("services") or {}
        for key, service in services.items():
            entry = merged.setdefault(key, {})
            entry.update({k: v for k, v in service.items() if k != "image"})
            entry.setdefault("image", {}).update(service.get("image") or {})
    found = {
        key: str(service["image"].get("repository") or "")
        for key, service in merged.items()
        if service.get("enabled", True)
    }
    missing = sorted(key for key, repository in found.items() if not repository)
    if missing:
        raise DigestFailure(f"no image.repository for {', '.join(missing)}")
    return found


def verified_digest(reference: str, identity: str, issuer: str) -> str:
    command = [os.environ.get("COSIGN", "cosign"), "verify", reference]
    command += ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer]
    command += ["--output", "json"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DigestFailure(f"{reference}: no valid signature: {result.stderr.strip()[-500:]}")
    try:
        payloads = json.loads(result.stdout)
        digests = {p["critical"]["image"]["docker-manifest-digest"] for p in payloads}
    except (ValueError, KeyError, TypeError) as failure:
        raise DigestFailure(f"{reference}: unreadable cosign answer ({failure})") from failure
    if len(digests) != 1 or not DIGEST.match(next(iter(digests))):
        raise DigestFailure(f"{reference}: expected one sha256 digest, got {sorted(digests)}")
    return digests.pop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=Path, action="append", required=True, help="JSON values")
    parser.add_argument("--registry", required=True, help="e.g. myacr.azurecr.io")
    parser.add_argument("--tag", required=True, help="the commit SHA the images were built from")
    parser.add_argument("--identity", required=True, help="signing certificate identity (SAN)")
    parser.add_argument("--issuer", default=GITHUB_ISSUER)
    parser.add_argument("--out", type=Path, required=True, help="values file to write")
    parser.add_argument(
        "--references", type=Path, help="also write {service: registry/repo@digest}"
    )
    arguments = parser.parse_args(argv)
    if not re.fullmatch(r"[0-9a-f]{40}", arguments.tag):
        print(f"FAIL tag must be a full commit SHA, got {arguments.tag!r}")
        return 1
    try:
        services = repositories(arguments.values)
        pinned: dict[str, Any] = {}
        references: dict[str, str] = {}
        for key, repository in sorted(services.items()):
            reference = f"{arguments.registry}/{repository}:{arguments.tag}"
            digest = verified_digest(reference, arguments.identity, arguments.issuer)
            pinned[key] = {"image": {"digest": digest}}
            references[key] = f"{arguments.registry}/{repository}@{digest}"
            print(f"ok   {key}: {reference} -> {digest}")
    except DigestFailure as failure:
        print(f"FAIL {failure}")
        return 1
    arguments.out.write_text(json.dumps({"services": pinned}, indent=2) + "\n")
    if arguments.references is not None:
        arguments.references.write_text(json.dumps(references, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
