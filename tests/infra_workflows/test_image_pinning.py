"""CD deploys every image by the digest its signature covers, after checking that signature.

`image_digests.py` runs against a fake `cosign` answering like the real one; its values file is
rendered with the real chart, so the test fails unless every app container runs `repo@sha256:`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from infra_workflows import policy
from infra_workflows.helpers import SCRIPTS, fake_cli, run_script

pytestmark = pytest.mark.infra

CHART = policy.ROOT / "charts" / "onboarding"
TAG = "0123456789abcdef0123456789abcdef01234567"
IDENTITY = "https://github.com/o/r/.github/workflows/build-image.yml@refs/heads/main"

FAKE_COSIGN = """
import hashlib, json, os, sys
args = sys.argv[1:]
assert args[0] == "verify", args
reference = args[1]
identity = args[args.index("--certificate-identity") + 1]
issuer = args[args.index("--certificate-oidc-issuer") + 1]
if identity != os.environ["SIGNER"] or issuer != "https://token.actions.githubusercontent.com":
    print("Error: none of the expected identities matched", file=sys.stderr)
    sys.exit(1)
if "unsigned" in reference:
    print("Error: no signatures found", file=sys.stderr)
    sys.exit(1)
digest = "sha256:" + hashlib.sha256(reference.split(":")[0].encode()).hexdigest()
payload = {"critical": {"identity": {"docker-reference": reference.rsplit(":", 1)[0]},
                        "image": {"docker-manifest-digest": digest},
                        "type": "cosign container image signature"}, "optional": None}
print(json.dumps([payload, payload]))
"""


def as_json(tmp_path: Path, values: Path) -> Path:
    """What the workflow's `yq -o=json '.' <values>` gives."""
    out = tmp_path / f"{values.stem}.json"
    out.write_text(json.dumps(yaml.safe_load(values.read_text())))
    return out


def pin(
    tmp_path: Path, environment: str, signer: str = IDENTITY, registry: str = "acr.azurecr.io"
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    cosign = fake_cli(tmp_path, "cosign", FAKE_COSIGN)
    out, references = tmp_path / "image-digests.json", tmp_path / "refs.json"
    result = run_script(
        "image_digests.py",
        "--values", str(as_json(tmp_path, CHART / "values.yaml")),
        "--values", str(as_json(tmp_path, CHART / f"values-{environment}.yaml")),
        "--registry", registry, "--tag", TAG, "--identity", IDENTITY,
        "--out", str(out), "--references", str(references),
        env={**os.environ, "COSIGN": str(cosign), "SIGNER": signer},
    )  # fmt: skip
    return result, out, references


def app_images(helm: Path, *values: Path) -> dict[str, str]:
    command = [str(helm), "template", "onboarding", str(CHART), "--namespace", "onboarding-prod"]
    for path in values:
        command += ["--values", str(path)]
    command += ["--set-string", "image.registry=acr.azurecr.io", "--set-string", f"image.tag={TAG}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    images = {}
    for doc in yaml.safe_load_all(result.stdout):
        if doc and doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                images[doc["metadata"]["name"]] = container["image"]
    return images


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_app_image_is_deployed_by_its_signed_digest(
    tmp_path: Path, helm: Path, environment: str
) -> None:
    result, digests, references = pin(tmp_path, environment)
    assert result.returncode == 0, result.stdout + result.stderr
    pinned: dict[str, Any] = json.loads(digests.read_text())["services"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(pinned) == {k for k, v in values["services"].items() if v.get("enabled", True)}
    images = app_images(helm, CHART / f"values-{environment}.yaml", digests)
    assert images, "no Deployment rendered"
    for name, image in images.items():
        if "emulator" in name:
            continue
        repository, _, digest = image.partition("@")
        assert digest.startswith("sha256:") and TAG not in image, f"{name}: {image}"
        assert repository.startswith("acr.azurecr.io/onboarding/")
    refs = json.loads(references.read_text())
    assert refs["intakeApi"] == images["onboarding-intake-api"]


def test_without_the_digests_the_chart_deploys_by_tag(helm: Path) -> None:
    """What CD did before: only image.tag, so a moved tag changed what ran."""
    images = app_images(helm, CHART / "values-prod.yaml")
    assert images["onboarding-intake-api"].endswith(f":{TAG}")


@pytest.mark.parametrize(
    ("signer", "registry", "message"),
    [
        ("https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main", "acr.azurecr.io",
         "no valid signature"),
        (IDENTITY, "unsigned.azurecr.io", "no valid signature"),
    ],
)  # fmt: skip
def test_an_image_without_our_signature_stops_the_deployment(
    tmp_path: Path, signer: str, registry: str, message: str
) -> None:
    result, out, _ = pin(tmp_path, "prod", signer=signer, registry=registry)
    assert result.returncode == 1
    assert message in result.stdout
    assert not out.exists()


def test_deploy_env_installs_with_the_digests() -> None:
    workflow = (policy.WORKFLOWS / "deploy-env.yml").read_text()
    assert "image_digests.py" in workflow and "--out bundle/image-digests.json" in workflow
    assert "build-image.yml@refs/heads/main" in workflow  # the signer cosign insists on
    deploy = (SCRIPTS / "cluster" / "deploy.sh").read_text()
    assert "--values image-digests.json" in deploy
