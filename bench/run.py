"""``make bench``: throughput, latency, submit-to-email time, CPU per submission, search time
and memory, in one run.

Starts the embedded platform the way ``make run`` does (rate limit off), drives it with wrk from
127.0.0.1, and compares intake-api with a bare FastAPI endpoint that validates the same body and
does nothing else (the framework's ceiling on this machine), in the platform and, at 100 clients,
alone as the bare endpoint runs. Writes ``bench/results/<time>.json``,
``bench/results/latest.md`` and ``bench/results/latency.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email import policy
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
RESULTS = HERE / "results"
LUA = HERE / "wrk" / "report.lua"
ALONE = "intake-api alone"
TARGET_CLIENTS = 100  # the level of the 0.4x target
WRK = shutil.which("wrk") or "wrk"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_environment(data_dir: Path) -> dict[str, str]:
    """The environment ``make run`` gives the platform, with the rate limit off."""
    return {
        **os.environ,
        "INTAKE_DATA_DIR": str(data_dir),
        "ENVIRONMENT": "dev",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }


@dataclass(frozen=True)
class Served:
    url: str
    pid: int


@contextlib.contextmanager
def serving(
    app: list[str], ready_path: str, environment: dict[str, str] | None = None
) -> Iterator[Served]:
    """One app under uvicorn on a free port, by itself; yields its address once it answers."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed command
        [sys.executable, "-m", "uvicorn", *app, "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=environment,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}{ready_path}")
        yield Served(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - local URL
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class LoadResult:
    target: str
    connections: int
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    accepted: int | None = None
    emails: int | None = None
    email_p50_s: float | None = None
    email_p99_s: float | None = None
    # CPU per request (per submission, for intake-api) by process, all threads, user + system.
    cpu_ms: dict[str, float] | None = None


def wrk(
    target: str,
    base_url: str,
    connections: int,
    seconds: int,
    paths: list[str],
    body: Path | None = None,
    bearer: str | None = None,
    pause_ms: int = 0,
) -> LoadResult:
    environment = {**os.environ, "BENCH_PATHS": "|".join(paths), "BENCH_PAUSE_MS": str(pause_ms)}
    if body:
        environment["BENCH_BODY"] = str(body)
    if bearer:
        environment["BENCH_BEARER"] = bearer
    threads = min(2, connections)
    completed = subprocess.run(  # noqa: S603 - fixed command
        [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(LUA), base_url],
        env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in completed.stdout.splitlines() if x.startswith("{"))
    raw = json.loads(line)
    duration = raw["duration_us"] / 1e6
    return LoadResult(
        target=target,
        connections=connections,
        requests=raw["requests"],
        seconds=round(duration, 2),
        throughput=round(raw["requests"] / duration, 1),
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        errors=raw["status_errors"] + raw["socket_errors"],
    )


def stat_fields(stat: Path) -> list[str]:
    """A ``/proc/<pid>/stat`` line's fields after the command name (which may hold spaces and
    parentheses): ``[0]`` is the state, ``[1]`` the parent's pid, ``[11]``/``[12]`` the user and
    system CPU in clock ticks."""
    return stat.read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far: every thread, user and system (the kernel's share
    counts: each email the notifier sends is a file it creates)."""
    fields = stat_fields(Path(f"/proc/{pid}/stat"))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def cpu_used(pids: dict[str, int]) -> Iterator[dict[str, float]]:
    """The CPU seconds each named process used inside the block, filled in when it ends."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    used: dict[str, float] = {}
    yield used
    used.update({name: cpu_seconds(pid) - before[name] for name, pid in pids.items()})


def file_create_us(folder: Path, count: int = 500) -> float:
    """Microseconds to create and write one email-sized file, as the file mailer does for each
    email. On ext4 without a journal (this machine's) it rises more than tenfold for minutes
    after many files were deleted, and the notifier's cost rises with it."""
    folder.mkdir(parents=True)
    started = time.perf_counter()
    for number in range(count):
        (folder / f"{number}.eml").write_bytes(b"x" * 3000)
    return round((time.perf_counter() - started) * 1e6 / count, 1)


def per_request_ms(used: dict[str, float], requests: int) -> dict[str, float]:
    return {name: round(seconds * 1000 / max(requests, 1), 2) for name, seconds in used.items()}


def load_served(
    target: str, served: Served, connections: int, seconds: int, body: Path
) -> LoadResult:
    """A run against one app under uvicorn, with the CPU it used per request."""
    with cpu_used({target: served.pid}) as used:
        load = wrk(target, served.url, connections, seconds, ["/v1/submissions"], body)
    load.cpu_ms = per_request_ms(used, load.requests)
    return load


def load_intake(
    stack: Stack, data_dir: Path, connections: int, seconds: int, pause_ms: int = 0
) -> LoadResult:
    """Submissions from ``connections`` clients, then every email they caused, timed; and the
    CPU intake-api and the notifier used per submission, until its email was sent."""
    start = datetime.now(UTC).isoformat(timespec="microseconds")
    body = ROOT / "docs/examples/submission.json"
    target = "intake-api paced" if pause_ms else "intake-api"
    with cpu_used(stack.pids(("intake-api", "notify-worker"))) as used:
        load = wrk(target, stack.intake_api, connections, seconds, ["/v1/submissions"], body,
                   None, pause_ms)  # fmt: skip
        end = datetime.now(UTC).isoformat(timespec="microseconds")
        submitted = submissions_between(data_dir / "intake.db", start, end)
        latencies = email_latencies(data_dir / "mail", submitted, timeout=120)
    load.cpu_ms = per_request_ms(used, len(submitted))
    load.accepted, load.emails = len(submitted), len(latencies)
    load.email_p50_s = round(percentile(latencies, 0.5), 3)
    load.email_p99_s = round(percentile(latencies, 0.99), 3)
    print(load, flush=True)
    return load


def median_runs(runs: list[LoadResult]) -> list[LoadResult]:
    """For each target and level, the run of median throughput: one run's figures, whole."""
    groups: dict[tuple[str, int], list[LoadResult]] = {}
    for run in runs:
        groups.setdefault((run.target, run.connections), []).append(run)
    return [
        sorted(group, key=lambda run: run.throughput)[(len(group) - 1) // 2]
        for group in groups.values()
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def children(pid: int) -> dict[int, str]:
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_fields(stat)
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found[int(stat.parent.name)] = cmdline
    return found


class Stack:
    """The platform under ``intake run`` with its own data dir and free ports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = [free_port() for _ in range(4)]
        self.ui, self.intake_api, self.admin_api = (
            f"http://127.0.0.1:{port}" for port in self.ports[:3]
        )

    def __enter__(self) -> Stack:
        self.log = (self.data_dir / "stack.log").open("w")
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            [sys.executable, "-m", "intake_core.cli", "run",
             "--ports", ",".join(map(str, self.ports))],
            env=embedded_environment(self.data_dir), stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for base in (self.ui, self.intake_api, self.admin_api):
            wait_http(f"{base}/healthz")
        wait_http(f"http://127.0.0.1:{self.ports[3]}/healthz")
        return self

    def pids(self, names: tuple[str, ...] | None = None) -> dict[str, int]:
        """The platform's processes by service name (all of them, or those in ``names``)."""
        modules = {"intake_api": "intake-api", "admin_api": "admin-api", "intake_ui": "intake-ui"}
        found = {}
        for pid, cmdline in children(self.process.pid).items():
            name = next((v for k, v in modules.items() if k in cmdline), "notify-worker")
            if names is None or name in names:
                found[name] = pid
        return found

    def rss(self) -> dict[str, float]:
        return {name: rss_mb(pid) for name, pid in self.pids().items()}

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self.log.close()


def intake_api_alone(data_dir: Path) -> contextlib.AbstractContextManager[Served]:
    """intake-api by itself, no other service (its relay publishes to a queue nobody reads),
    as the bare endpoint runs: the API's own cost, without the notifier's share of the cores."""
    return serving(
        ["intake_api.main:app_from_environment", "--factory"], "/healthz",
        embedded_environment(data_dir),
    )  # fmt: skip


def submissions_between(db: Path, start: str, end: str) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT client_id, submitted_at FROM submissions WHERE submitted_at BETWEEN ? AND ?",
            (start, end),
        ).fetchall()
    return dict(rows)


def email_latencies(mail_dir: Path, submitted: dict[str, str], timeout: float) -> list[float]:
    """Seconds from commit to the .eml landing, for each submission in ``submitted``.

    Only files written since the first submission are parsed. The mailbox keeps every earlier
    run's emails (about 45,000 by the paced run), and parsing them all took long enough for the
    deadline to pass in the first sweep, before an email landing just after it was seen.
    """
    deadline = time.monotonic() + timeout
    first = min((datetime.fromisoformat(at).timestamp() for at in submitted.values()), default=0)
    arrived: dict[str, float] = {}
    read: set[Path] = set()
    while len(arrived) < len(submitted) and time.monotonic() < deadline:
        for path in set(mail_dir.glob("*.eml")) - read:
            read.add(path)
            landed = path.stat().st_mtime
            if landed < first:
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            client_id = str(message["Subject"]).split()[2].rstrip(":")
            if client_id in submitted and client_id not in arrived:
                sent = datetime.fromisoformat(submitted[client_id]).timestamp()
                arrived[client_id] = landed - sent
        time.sleep(0.5)
    return sorted(arrived.values())


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


async def seed(data_dir: Path, count: int) -> None:
    from intake_core.adapters.sqlite_store import SqliteSubmissionStore
    from intake_core.domain.audit import AuditEntry
    from intake_core.domain.events import submission_created
    from intake_core.domain.models import Submission
    from support import make_submission

    store = SqliteSubmissionStore(data_dir / "intake.db")
    await store.open()
    body = json.loads((ROOT / "docs/examples/submission.json").read_text())

    async def historical(submission: Submission) -> None:
        """Saved and long since emailed: its event is marked published, so the platform is
        idle during the search run instead of relaying and emailing 100k events."""
        event = submission_created(submission)
        audit = AuditEntry(
            "submission.created", "bench", submission.submitted_at, submission.client_id
        )
        await store.save_new(submission, event, audit)
        await store.mark_published(event.id)

    batch = []
    for n in range(count):
        body["company"]["name"] = f"Seeded Company {n:06d}"
        body["company"]["contact"]["email"] = f"person{n}@seed{n % 97}.example"
        batch.append(historical(make_submission(body)))
        if len(batch) == 500:
            await asyncio.gather(*batch)
            batch.clear()
    await asyncio.gather(*batch)
    await store.close()


# Issue #11's target for intake-api's p99 at 100 clients, drawn on the latency plot.
P99_TARGET_MS = 50


def plot(loads: list[LoadResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for target in sorted({load.target for load in loads}):
        series = [load for load in loads if load.target == target]
        xs = [load.connections for load in series]
        axes[0].plot(xs, [load.p99_ms for load in series], marker="o", label=f"{target} p99")
        axes[0].plot(
            xs, [load.p50_ms for load in series], marker=".", linestyle="--", label=f"{target} p50"
        )
        axes[1].plot(xs, [load.throughput for load in series], marker="o", label=target)
    # Log scale: the bare endpoint's tail at 200 clients is seconds, intake-api's p50 at one
    # client a millisecond; on a linear axis everything but the first is a flat line at zero.
    axes[0].axhline(P99_TARGET_MS, color="grey", linestyle=":", label="p99 target")
    axes[0].set(
        xscale="log", yscale="log", xlabel="concurrent clients", ylabel="latency (ms)",
        title="Latency",
    )  # fmt: skip
    axes[1].set(xscale="log", xlabel="concurrent clients", ylabel="requests/s", title="Throughput")
    for axis in axes:
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def markdown(report: dict) -> str:
    runs: dict[tuple[str, int], list[float]] = {}
    for run in report["runs"]:
        runs.setdefault((run["target"], run["connections"]), []).append(run["throughput"])
    rounds = max(len(throughputs) for throughputs in runs.values())
    lines = [
        f"Benchmark of {report['started']} on {report['machine']} — `make bench`",
        "",
        f"Each row is the median of {rounds} runs (by throughput), bare and intake-api alternated;"
        " the range column shows every run's throughput.",
        "",
        "| target | clients | req/s | range req/s | p50 ms | p95 ms | p99 ms | errors | vs bare |"
        " emails / accepted | submit→email p50 / p99 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bare = {load["connections"]: load for load in report["load"] if load["target"] == "bare"}
    for load in report["load"]:
        seen = runs[(load["target"], load["connections"])]
        spread = f"{min(seen):.0f}-{max(seen):.0f}"
        ratio = ""
        if load["target"] == "intake-api" and load["connections"] in bare:
            ratio = f"{load['throughput'] / bare[load['connections']]['throughput']:.2f}x"
        mail = email_latency = ""
        if load["emails"] is not None:
            mail = f"{load['emails']} / {load['accepted']}"
            email_latency = f"{load['email_p50_s']:.2f} / {load['email_p99_s']:.2f}"
        lines.append(
            f"| {load['target']} | {load['connections']} | {load['throughput']:.0f} | {spread} | "
            f"{load['p50_ms']:.1f} | {load['p95_ms']:.1f} | {load['p99_ms']:.1f} | "
            f"{load['errors']} | {ratio} | {mail} | {email_latency} |"
        )
    lines += _alone_lines(report)
    lines += _cpu_lines(report)
    if "file_create_us" in report:
        lines += ["", f"Creating a 3 kB file (each email is one) took {report['file_create_us']} µs"
                  " at the start of this run."]  # fmt: skip
    intake_runs = [run for run in report["runs"] if run["emails"] is not None]
    every = all(run["emails"] == run["accepted"] for run in intake_runs)
    lines += [
        "",
        f"Every accepted submission emailed, in all {len(intake_runs)} intake-api runs: "
        f"{'yes' if every else 'NO'}.",
    ]
    paced = report["paced"]
    lines += [
        "",
        f"Paced: {paced['connections']} clients sending {paced['offered_per_second']} "
        f"submissions/s together: {paced['throughput']:.0f} req/s, p50 {paced['p50_ms']:.1f} ms, "
        f"p95 {paced['p95_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms, errors {paced['errors']}, "
        f"emails / accepted {paced['emails']} / {paced['accepted']}, "
        f"submit→email p50 {paced['email_p50_s']:.2f} s, p99 {paced['email_p99_s']:.2f} s.",
        "",
        "UI two-step journey over HTTP, 10 users: "
        f"{report['ui_journey']['journeys_per_second']} journeys/s, "
        f"p50 {report['ui_journey']['p50_ms']} ms, p95 {report['ui_journey']['p95_ms']} ms, "
        f"errors {report['ui_journey']['errors']}.",
        *(
            f"Admin search over {search['records']:,} records, {search['connections']} client(s): "
            f"{search['throughput']:.0f} req/s, p50 {search['p50_ms']:.1f} ms, "
            f"p95 {search['p95_ms']:.1f} ms, p99 {search['p99_ms']:.1f} ms, "
            f"errors {search['errors']}."
            for search in report.get("search_levels", [report["search"]])
        ),
        "Idle RSS (MB): " + ", ".join(f"{k} {v}" for k, v in sorted(report["rss_idle_mb"].items())),
    ]
    return "\n".join(lines) + "\n"


def _alone_lines(report: dict) -> list[str]:
    """intake-api alone against the bare endpoint, each run alternated with the other."""
    if "alone" not in report:
        return []
    median = {load["target"]: load for load in report["alone"]}
    alone, bare = median[ALONE], median["bare"]
    seen = [run["throughput"] for run in report["alone_runs"] if run["target"] == ALONE]
    return [
        "",
        f"{ALONE} (no other service running, as the bare endpoint runs), "
        f"{alone['connections']} clients: {alone['throughput']:.0f} req/s "
        f"(runs {min(seen):.0f}-{max(seen):.0f}), p99 {alone['p99_ms']:.1f} ms, "
        f"errors {alone['errors']}: {alone['throughput'] / bare['throughput']:.2f}x the bare "
        f"endpoint's {bare['throughput']:.0f} req/s in the same rounds.",
    ]


def _cpu_lines(report: dict) -> list[str]:
    """Where the cores go at the 0.4x target's level: CPU per submission in the median runs, and
    the most submissions per second the cores could keep up with, every email sent."""
    median = {load["target"]: load for load in report["load"]
              if load["connections"] == TARGET_CLIENTS}  # fmt: skip
    intake, bare = median.get("intake-api", {}), median.get("bare", {})
    if not intake.get("cpu_ms") or not bare.get("cpu_ms"):
        return []  # a report from before the CPU was measured
    api, notifier = intake["cpu_ms"]["intake-api"], intake["cpu_ms"]["notify-worker"]
    cores = report["cores"]
    line = (
        f"CPU per submission at {TARGET_CLIENTS} clients (all threads, user + system; median"
        f" runs): intake-api {api:.2f} ms + notify-worker {notifier:.2f} ms in the platform;"
        f" at that cost {cores} cores sustain at most {cores * 1000 / (api + notifier):.0f}"
        " submissions/s with every email sent (a run can go faster while the notifier falls"
        " behind, and catch up after it)"
    )
    alone = {load["target"]: load for load in report.get("alone", [])}.get(ALONE, {})
    if alone.get("cpu_ms"):
        line += f"; intake-api alone {alone['cpu_ms'][ALONE]:.2f} ms"
    bare_ms = bare["cpu_ms"]["bare"]
    # The bare endpoint, and intake-api but for SQLite's own work on its threads, run their
    # Python on one core at a time (one process, the GIL): their CPU per request bounds each.
    ceiling = (
        f"Each is one process whose Python runs on one core at a time: at these costs intake-api"
        f" answers about {1000 / api:.0f} submissions/s at most and the bare endpoint"
        f" {1000 / bare_ms:.0f} requests/s, {bare_ms / api:.2f}x; in the platform intake-api"
        " gets that core only while the notifier and the load generator fit on the other."
    )
    return ["", f"{line}; the bare endpoint {bare_ms:.2f} ms per request.", "", ceiling]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="per run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs per target and level, alternated; the median counts",
    )
    parser.add_argument("--levels", default="1,10,100,200")
    parser.add_argument("--search-records", type=int, default=100_000)
    parser.add_argument("--paced-clients", type=int, default=100)
    parser.add_argument(
        "--paced-rate", type=int, default=100, help="submissions/s the paced clients send together"
    )
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("make bench needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    levels = [int(level) for level in arguments.levels.split(",")]
    body = ROOT / "docs/examples/submission.json"
    report: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "cores": os.cpu_count() or 1,
        "load": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        data_dir = Path(scratch)
        report["file_create_us"] = file_create_us(data_dir / "probe")
        with serving(["bench.bare_app:app"], "/docs") as bare:
            with Stack(data_dir) as stack:
                time.sleep(2)
                report["rss_idle_mb"] = stack.rss()
                runs: list[LoadResult] = []
                for connections in levels:
                    # Alternated, so a slow spell of this shared machine hits both targets.
                    for _ in range(arguments.rounds):
                        runs.append(load_served("bare", bare, connections, arguments.seconds,
                                                body))  # fmt: skip
                        runs.append(load_intake(stack, data_dir, connections, arguments.seconds))
                report["runs"] = [asdict(run) for run in runs]
                report["load"] = [asdict(run) for run in median_runs(runs)]
                clients, rate = arguments.paced_clients, arguments.paced_rate
                paced = load_intake(
                    stack, data_dir, clients, 2 * arguments.seconds, pause_ms=clients * 1000 // rate
                )
                report["paced"] = {"offered_per_second": rate, **asdict(paced)}
                from bench.ui_journey import run_journeys

                report["ui_journey"] = asyncio.run(
                    run_journeys(stack.ui, users=10, seconds=arguments.seconds)
                )
                print("UI journey", report["ui_journey"], flush=True)
                report["rss_after_load_mb"] = stack.rss()
            with intake_api_alone(data_dir / "alone") as alone:
                pairs: list[LoadResult] = []
                for _ in range(arguments.rounds):
                    pairs.append(load_served("bare", bare, TARGET_CLIENTS, arguments.seconds,
                                             body))  # fmt: skip
                    pairs.append(load_served(ALONE, alone, TARGET_CLIENTS, arguments.seconds,
                                             body))  # fmt: skip
                report["alone_runs"] = [asdict(run) for run in pairs]
                report["alone"] = [asdict(run) for run in median_runs(pairs)]
            asyncio.run(seed(data_dir, arguments.search_records))
            with Stack(data_dir) as stack:
                from intake_core.auth import DevIssuer

                token = DevIssuer(data_dir).issue("bench@example.com", ["Submissions.Read"])
                queries = [
                    "/v1/submissions",
                    "/v1/submissions?q=seeded%20company%200421",
                    "/v1/submissions?q=seed42.example",
                    "/v1/submissions?industry=technology&limit=100",
                    "/v1/submissions?q=no-such-thing",
                ]
                # One member of staff searching, then ten at once (the whole sales team).
                report["search_levels"] = [
                    {"records": arguments.search_records, **asdict(
                        wrk("admin-search", stack.admin_api, clients, arguments.seconds, queries,
                            bearer=token)
                    )}
                    for clients in (1, 10)
                ]  # fmt: skip
                report["search"] = report["search_levels"][-1]
    RESULTS.mkdir(exist_ok=True)
    stamp = report["started"].replace(":", "").replace("-", "")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "latest.md").write_text(markdown(report))
    plot([LoadResult(**load) for load in report["load"]], RESULTS / "latency.png")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
