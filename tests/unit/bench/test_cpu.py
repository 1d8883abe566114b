"""The benchmark's CPU figures: read from /proc for real processes, and the line that adds them up."""

from __future__ import annotations

import subprocess
import sys

# Burns 0.3 s of its own CPU time once told to, then says so and sleeps: however loaded the
# machine, the block below then holds at least that much of its CPU.
BURN = """
import sys, time
sys.stdin.readline()
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
print("done", flush=True)
time.sleep(60)
"""


def test_cpu_used_counts_a_busy_process_and_not_an_idle_one(bench_run) -> None:
    busy = subprocess.Popen(
        [sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    idle = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert busy.stdin is not None and busy.stdout is not None and idle.stdout is not None
    try:
        assert idle.stdout.readline().strip() == "ready"  # its start is not counted
        with bench_run.cpu_used({"busy": busy.pid, "idle": idle.pid}) as used:
            assert used == {}  # filled in when the block ends
            busy.stdin.write("go\n")
            busy.stdin.flush()
            assert busy.stdout.readline().strip() == "done"
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
    assert used["busy"] >= 0.25  # /proc counts in clock ticks (10 ms)
    assert used["idle"] <= 0.05


def test_per_request_ms_divides_by_the_requests_and_survives_none(bench_run) -> None:
    assert bench_run.per_request_ms({"intake-api": 2.5}, 1000) == {"intake-api": 2.5}
    assert bench_run.per_request_ms({"intake-api": 0.01}, 0) == {"intake-api": 10.0}


def _load(target: str, connections: int, cpu_ms: dict[str, float] | None) -> dict:
    return {"target": target, "connections": connections, "cpu_ms": cpu_ms}


def test_the_cpu_line_adds_up_the_platform_and_names_the_alone_and_bare_costs(bench_run) -> None:
    report = {
        "cores": 2,
        "load": [
            _load("bare", 10, {"bare": 0.9}),
            _load("intake-api", 10, {"intake-api": 9.0, "notify-worker": 9.0}),
            _load("bare", 100, {"bare": 0.5}),
            _load("intake-api", 100, {"intake-api": 2.0, "notify-worker": 1.5}),
        ],
        "alone": [
            _load("bare", 100, {"bare": 0.45}),
            _load(bench_run.ALONE, 100, {bench_run.ALONE: 1.25}),
        ],
    }
    [blank, line, _, ceiling] = bench_run._cpu_lines(report)
    assert blank == ""
    assert "intake-api 2.00 ms + notify-worker 1.50 ms in the platform" in line
    assert "2 cores sustain at most 571 submissions/s" in line  # 2,000 ms / 3.5 ms
    assert "intake-api alone 1.25 ms" in line
    assert "the bare endpoint 0.50 ms per request" in line
    # One core each: 1,000 ms / 2.0 ms and 1,000 ms / 0.5 ms, a ratio of 0.25.
    assert "intake-api answers about 500 submissions/s at most" in ceiling
    assert "the bare endpoint 2000 requests/s, 0.25x" in ceiling


def test_a_report_from_before_the_cpu_was_measured_has_no_cpu_line(bench_run) -> None:
    report = {
        "cores": 2,
        "load": [_load("bare", 100, None), _load("intake-api", 100, None)],
    }
    assert bench_run._cpu_lines(report) == []
    assert bench_run._cpu_lines({"cores": 2, "load": []}) == []


def test_file_create_us_times_real_files(bench_run, tmp_path) -> None:
    took = bench_run.file_create_us(tmp_path / "probe", count=20)
    assert took > 0
    assert len(list((tmp_path / "probe").glob("*.eml"))) == 20
