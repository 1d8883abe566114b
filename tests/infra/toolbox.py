"""Paths, the renderings of the chart, and a subprocess helper shared by the infra tests."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "onboarding"
TOOLS = ROOT / ".tools" / "bin"
APP_COMPONENTS = ("intake-ui", "intake-api", "admin-api", "notify")
# The chart has no default image tag; kind-up.sh and CD set one (a commit SHA in Azure).
TEST_TAG = "image.tag=kind-0123456789ab"

# name -> (values files relative to the repo root, --set overrides)
RENDERINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "values": ((), (TEST_TAG,)),
    "values-dev": (("charts/onboarding/values-dev.yaml",), ()),
    "values-staging": (("charts/onboarding/values-staging.yaml",), ()),
    "values-prod": (("charts/onboarding/values-prod.yaml",), ()),
    # prod's alert thresholds as a self-managed Prometheus would load them (AKS turns the
    # PrometheusRule off: Managed Prometheus runs the same alerts from alerts.bicep).
    "values-prod-rules": (
        ("charts/onboarding/values-prod.yaml",),
        ("monitoring.prometheusRule.enabled=true",),
    ),
    "values-kind": (("charts/onboarding/values-kind.yaml",), (TEST_TAG,)),
    "values-kind-embedded": (
        ("charts/onboarding/values-kind.yaml", "deploy/kind/values-embedded.yaml"),
        (TEST_TAG,),
    ),
    # Every optional switch on at once, and every one off.
    "switches-on": (
        (),
        (
            TEST_TAG,
            "ingress.enabled=true",
            "monitoring.serviceMonitor.enabled=true",
            "monitoring.prometheusRule.enabled=true",
            "monitoring.grafanaDashboard.enabled=true",
            "cosmosEmulator.enabled=true",
            "serviceBusEmulator.enabled=true",
            "embedded.persistence.enabled=true",
            "services.intakeApi.autoscaling.enabled=true",
            "services.intakeUi.autoscaling.enabled=true",
        ),
    ),
    "switches-off": (
        (),
        (
            TEST_TAG,
            "networkPolicy.enabled=false",
            "services.intakeUi.podDisruptionBudget.enabled=false",
            "services.intakeApi.podDisruptionBudget.enabled=false",
            "services.adminApi.podDisruptionBudget.enabled=false",
            "services.notify.podDisruptionBudget.enabled=false",
            "services.notify.enabled=false",
        ),
    ),
}


@dataclass(frozen=True)
class Rendering:
    name: str
    path: Path
    docs: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        matches = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(matches) == 1, f"{kind}/{name} in {self.name}: {len(matches)} found"
        return matches[0]

    def deployment(self, component: str) -> dict[str, Any]:
        found = [
            d
            for d in self.of_kind("Deployment")
            if d["metadata"]["labels"]["app.kubernetes.io/component"] == component
        ]
        assert len(found) == 1, f"Deployment {component} in {self.name}"
        return found[0]


def run(cmd: list[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a tool from the repo root, capturing its output as text."""
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=kwargs.pop("cwd", ROOT),
        env=kwargs.pop("env", env),
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def helm_args(name: str) -> list[str]:
    files, sets = RENDERINGS[name]
    args: list[str] = []
    for f in files:
        args += ["-f", str(ROOT / f)]
    for s in sets:
        args += ["--set", s]
    return args
