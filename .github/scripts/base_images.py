#!/usr/bin/env python3
"""Build arguments that pin a Dockerfile's base images by digest (standard library only).

The Dockerfiles name their bases by patch tag in `ARG <NAME>_IMAGE=<image>:<tag>` (readable, and
what Dependabot bumps). At build time this resolves each such tag to the digest it points to now
and prints `<NAME>_IMAGE=<image>:<tag>@sha256:...` build arguments, so the build, the Trivy scan
and the image's `org.opencontainers.image.base.name` label all name the exact base that was used.

    python3 .github/scripts/base_images.py docker/Dockerfile
    PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

BASE_ARG = re.compile(r"^ARG\s+(?P<name>[A-Z][A-Z0-9_]*_IMAGE)=(?P<image>\S+)\s*$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def base_image_args(dockerfile: Path) -> dict[str, str]:
    return {
        match["name"]: match["image"]
        for line in dockerfile.read_text().splitlines()
        if (match := BASE_ARG.match(line.strip()))
    }


def digest_of(image: str) -> str:
    command = [os.environ.get("DOCKER", "docker"), "buildx", "imagetools", "inspect", image]
    command += ["--format", "{{json .Manifest}}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"cannot inspect {image}: {result.stderr.strip()}")
    digest = str(json.loads(result.stdout).get("digest", ""))
    if not DIGEST.match(digest):
        raise SystemExit(f"{image}: not a sha256 digest: {digest!r}")
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dockerfile", type=Path)
    arguments = parser.parse_args(argv)
    bases = base_image_args(arguments.dockerfile)
    if not bases:
        print(f"{arguments.dockerfile}: no ARG *_IMAGE=<image> to pin", file=sys.stderr)
        return 1
    for name, image in bases.items():
        pinned = image if "@sha256:" in image else f"{image}@{digest_of(image)}"
        print(f"{name}={pinned}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
