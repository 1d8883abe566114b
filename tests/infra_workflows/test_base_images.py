"""Images are built from the digest their base tag points to, named in the build arguments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from infra_workflows import policy
from infra_workflows.helpers import fake_cli, run_script

pytestmark = pytest.mark.infra

FAKE_DOCKER = """
import hashlib, json, sys
args = sys.argv[1:]
assert args[:3] == ["buildx", "imagetools", "inspect"], args
print(json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json",
                  "digest": "sha256:" + hashlib.sha256(args[3].encode()).hexdigest()}))
"""


@pytest.mark.parametrize(
    ("dockerfile", "names"),
    [
        ("docker/Dockerfile", {"PYTHON_IMAGE"}),
        ("functions/notify/Dockerfile", {"PYTHON_IMAGE", "FUNCTIONS_IMAGE"}),
    ],
)
def test_base_images_are_built_by_digest(tmp_path: Path, dockerfile: str, names: set[str]) -> None:
    docker = fake_cli(tmp_path, "docker", FAKE_DOCKER)
    result = run_script(
        "base_images.py", str(policy.ROOT / dockerfile), env={**os.environ, "DOCKER": str(docker)}
    )
    assert result.returncode == 0, result.stderr
    args = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(args) == names
    text = (policy.ROOT / dockerfile).read_text()
    for name, value in args.items():
        tag, _, digest = value.partition("@")
        assert f"ARG {name}={tag}" in text
        assert len(digest) == len("sha256:") + 64


def test_build_image_passes_the_pinned_bases() -> None:
    workflow = policy.load(policy.WORKFLOWS / "build-image.yml")
    steps = workflow["jobs"]["build"]["steps"]
    names = [step.get("name", "") for step in steps]
    bases = names.index("Pin the base images by digest")
    build = next(i for i, step in enumerate(steps) if "build-push-action" in str(step.get("uses")))
    assert bases < build
    assert "steps.bases.outputs.build-args" in steps[build]["with"]["build-args"]
