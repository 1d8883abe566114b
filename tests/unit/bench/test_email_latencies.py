"""The benchmark's email count: only this run's emails are read, and a late one is still seen."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path


def _eml(folder: Path, name: str, client_id: str) -> Path:
    path = folder / f"{name}.eml"
    path.write_text(f"Subject: New onboarding {client_id}: Contoso\n\nbody\n")
    return path


def test_earlier_runs_emails_are_skipped_and_a_late_one_is_counted(
    tmp_path: Path, bench_run
) -> None:
    submitted_at = datetime.now(UTC)
    old = tmp_path / "earlier-run.eml"
    old.write_bytes(b"\xff not an email the parser could read as this run's")
    an_hour_ago = submitted_at.timestamp() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    _eml(tmp_path, "first", "CL-AAAA-AAAA-AAAA")
    late = threading.Timer(1.2, _eml, (tmp_path, "late", "CL-BBBB-BBBB-BBBB"))
    late.start()
    started = time.monotonic()
    latencies = bench_run.email_latencies(
        tmp_path,
        {
            "CL-AAAA-AAAA-AAAA": submitted_at.isoformat(),
            "CL-BBBB-BBBB-BBBB": submitted_at.isoformat(),
        },
        timeout=10,
    )
    late.join()
    assert len(latencies) == 2
    assert time.monotonic() - started < 5  # it stopped when the last one came
    assert all(0 <= latency < 5 for latency in latencies)
