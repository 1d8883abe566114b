#!/usr/bin/env python3
"""Build the notify Function's deployment folder, ready for `func azure functionapp publish`.

`functions/notify/requirements.txt` is the lock's export of the third-party packages only
(`make function-requirements`, held to uv.lock by a test): the Function also imports the two
workspace members `intake_core` and `intake_notify`, which live in `src/` layouts that the
Functions host never sees. This script writes a self-contained folder:

    <out>/function_app.py, host.json       the app, as in functions/notify
    <out>/wheels/intake_core-*.whl           the two workspace members, built by `uv build`
    <out>/wheels/intake_notify-*.whl
    <out>/requirements.txt                   the locked export plus the two wheels, each hashed

so the remote build (`pip install -r requirements.txt`, hash-checking mode) installs everything
the app imports. Publish it with `cd <out> && func azure functionapp publish <app> --python`.

    python3 .github/scripts/package_function.py --out dist/notify-function
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "functions" / "notify"
MEMBERS = ("intake-core", "intake-notify")


def build_wheel(package: str, out: Path) -> Path:
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"
    before = set(out.glob("*.whl"))
    command = [uv, "build", "--wheel", "--package", package, "--out-dir", str(out), "--quiet"]
    subprocess.run(command, cwd=ROOT, check=True, timeout=300)  # noqa: S603
    built = sorted(set(out.glob("*.whl")) - before)
    if len(built) != 1:
        raise SystemExit(f"uv build --package {package} made {len(built)} wheels, expected one")
    return built[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    arguments = parser.parse_args(argv)
    out: Path = arguments.out
    if out.exists():
        shutil.rmtree(out)
    wheels = out / "wheels"
    wheels.mkdir(parents=True)
    for name in ("function_app.py", "host.json"):
        shutil.copy(FUNCTION / name, out / name)
    lines = [(FUNCTION / "requirements.txt").read_text().rstrip("\n")]
    for package in MEMBERS:
        wheel = build_wheel(package, wheels)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"./wheels/{wheel.name} \\\n    --hash=sha256:{digest}")
        lines.append(f"    # workspace member {package}, built by {Path(__file__).name}")
    (wheels / ".gitignore").unlink(missing_ok=True)  # uv build's, not part of the app
    (out / "requirements.txt").write_text("\n".join(lines) + "\n")
    print(f"notify Function package in {out}: {', '.join(p.name for p in wheels.iterdir())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
