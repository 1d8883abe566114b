"""checkov's Bicep policies over infra/bicep: no failed check, no parse error, only reviewed skips.

checkov runs in its own environment (``uvx --from checkov==<pinned>``) so its large dependency
tree stays out of the project lock. A Bicep file checkov cannot parse is reported in the
summary while the exit code stays 0, so the summary is asserted, not the exit code alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from .templates import BICEP_DIR, bicep_files, load

# One checkov run takes 20-60 s on a busy 2-core machine; the first test here pays for it.
pytestmark = [pytest.mark.infra, pytest.mark.timeout(300)]

CHECKOV = "checkov==3.3.30"
CONFIG = BICEP_DIR / ".checkov.yaml"
INLINE_SKIP = re.compile(r"//\s*checkov:skip=(CKV2?_[A-Z]+_\d+):?(.*)")


def uv_tool_run() -> list[str]:
    """`uvx`, or `uv tool run` where only uv is on the PATH (`make` may use `python3 -m uv`)."""
    if uvx := shutil.which("uvx"):
        return [uvx]
    if uv := shutil.which("uv"):
        return [uv, "tool", "run"]
    return [sys.executable, "-m", "uv", "tool", "run"]


def run_checkov(folder: Path, config: Path) -> dict[str, Any]:
    run = subprocess.run(
        [*uv_tool_run(), "--from", CHECKOV, "checkov", "--config-file", str(config),
         "--directory", ".", "--output", "json"],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert isinstance(report, dict), "expected one report: the bicep framework only"
    return report


@cache
def checkov_report() -> dict[str, Any]:
    return run_checkov(BICEP_DIR, CONFIG)


def inline_skips() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in bicep_files():
        for check_id, reason in INLINE_SKIP.findall(path.read_text()):
            found.setdefault(check_id, []).append(reason.strip())
    return found


def config_skips() -> dict[str, str]:
    lines = CONFIG.read_text().split("skip-check:", 1)[1].splitlines()
    skips = {}
    for line in lines:
        match = re.match(r"\s*-\s*(CKV2?_[A-Z]+_\d+)\s*(?:#\s*(.*))?$", line)
        if match:
            skips[match.group(1)] = (match.group(2) or "").strip()
    return skips


def test_checkov_parsed_every_file() -> None:
    summary = checkov_report()["summary"]
    assert summary["parsing_errors"] == 0
    declared = sum(len(load(path).resources) for path in bicep_files())
    assert summary["resource_count"] >= declared, (
        "checkov saw fewer resources than the templates declare"
    )


def test_checkov_finds_no_failed_check() -> None:
    report = checkov_report()
    failed = [
        f"{c['check_id']} {c['resource']} {c['file_path']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["passed"] >= 40


def test_every_skip_is_justified() -> None:
    for check_id, reasons in inline_skips().items():
        for reason in reasons:
            assert len(reason) >= 30, f"{check_id}: give the reason, not a shrug ({reason!r})"
    for check_id, reason in config_skips().items():
        assert len(reason) >= 30, f"{check_id} in .checkov.yaml needs a reason comment"
    assert config_skips(), "the reviewed global skip list is expected to exist"


def test_checkov_skipped_only_what_was_declared() -> None:
    skipped = {c["check_id"] for c in checkov_report()["results"]["skipped_checks"]}
    assert skipped <= set(inline_skips()), skipped - set(inline_skips())
    assert set(inline_skips()) <= skipped, "an inline skip no longer matches any finding: remove it"


def test_the_scan_would_see_a_finding_and_a_parse_error(tmp_path: Path) -> None:
    """The same invocation over two bad files: one insecure vault, one file checkov cannot parse."""
    (tmp_path / "insecure.bicep").write_text(
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n"
        "  name: 'kv'\n  location: 'eastus'\n"
        "  properties: {\n    tenantId: tenant().tenantId\n"
        "    sku: {\n      family: 'A'\n      name: 'standard'\n    }\n  }\n}\n"
    )
    # A ternary split over lines is valid Bicep that checkov's parser rejects (exit code 0).
    (tmp_path / "unparsable.bicep").write_text(
        "param on bool\nvar x = on\n  ? 'a'\n  : 'b'\noutput y string = x\n"
    )
    (tmp_path / ".checkov.yaml").write_text(CONFIG.read_text())
    report = run_checkov(tmp_path, tmp_path / ".checkov.yaml")
    assert report["summary"]["parsing_errors"] == 1
    assert report["summary"]["failed"] > 0
