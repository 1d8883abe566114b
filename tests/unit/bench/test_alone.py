"""The benchmark's line for intake-api alone: its median run against the bare endpoint's."""

from __future__ import annotations


def _run(target: str, throughput: float) -> dict:
    return {"target": target, "connections": 100, "throughput": throughput, "p99_ms": 250.0,
            "errors": 0}  # fmt: skip


def test_the_median_alone_run_is_set_against_the_median_bare_run(bench_run) -> None:
    runs = [
        _run("bare", 1500.0), _run("intake-api alone", 700.0),
        _run("bare", 1600.0), _run("intake-api alone", 640.0),
        _run("bare", 1700.0), _run("intake-api alone", 600.0),
    ]  # fmt: skip
    report = {"alone_runs": runs, "alone": [_run("bare", 1600.0), _run("intake-api alone", 640.0)]}
    [blank, line] = bench_run._alone_lines(report)
    assert blank == ""
    assert "100 clients: 640 req/s (runs 600-700)" in line
    assert "0.40x the bare endpoint's 1600 req/s" in line


def test_a_report_without_the_alone_runs_has_no_line(bench_run) -> None:
    assert bench_run._alone_lines({}) == []
