"""What the fault-injection tests share: real service processes, an SMTP sink, held locks.

Loaded by ``conftest.py`` as the module ``chaos_kit`` (test folders are not packages under
--import-mode=importlib). Every wait here is bounded: a test fails, it never hangs.
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup, Tag
from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")

LOCAL = "http://127.0.0.1"
# The machine is shared and has 2 cores: a cold start of a service can take a while.
STARTUP_SECONDS = 90.0


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_until(
    check: Callable[[], T | None], *, within: float, every: float = 0.2, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        time.sleep(every)


def platform_environment(data_dir: Path, **overrides: str) -> dict[str, str]:
    """What every service process gets: embedded adapters in ``data_dir``, dev mode, no rate
    limit (the load below comes from one address)."""
    return {
        **os.environ,
        "INTAKE_DATA_DIR": str(data_dir),
        "ENVIRONMENT": "dev",
        "RATE_LIMIT_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        "LOG_FORMAT": "text",
        "OTEL_EXPORTER": "none",
        **overrides,
    }


def uvicorn_command(factory: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip


@dataclass
class ServiceProcess:
    """One real service process with its own log file; started in its own session so a
    ``kill -9`` reaches it and nothing else."""

    name: str
    command: list[str]
    environment: dict[str, str]
    health_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, within: float = STARTUP_SECONDS) -> ServiceProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + within
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"{self.name} did not start:\n{self.log_tail()}")
            time.sleep(0.2)
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.health_url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """``kill -9``: no shutdown hook, no drain, no flush."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, grace: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, characters: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]


@dataclass
class Stack:
    """Services of one test, each startable, killable and restartable on its own."""

    data_dir: Path
    services: list[ServiceProcess] = field(default_factory=list)

    def intake_api(self, port: int, **environment: str) -> ServiceProcess:
        return self._add(
            "intake-api",
            uvicorn_command("intake_api.main:app_from_environment", port),
            f"{LOCAL}:{port}/healthz",
            environment,
        )

    def ui(self, port: int, intake_api_url: str, **environment: str) -> ServiceProcess:
        return self._add(
            "intake-ui",
            uvicorn_command("intake_ui.main:app_from_environment", port),
            f"{LOCAL}:{port}/healthz",
            {"INTAKE_API_URL": intake_api_url, **environment},
        )

    def worker(self, metrics_port: int, **environment: str) -> ServiceProcess:
        return self._add(
            "notify",
            [sys.executable, "-m", "intake_notify.worker"],
            f"{LOCAL}:{metrics_port}/healthz",
            {"NOTIFY_METRICS_PORT": str(metrics_port), **environment},
        )

    def _add(
        self, name: str, command: list[str], health_url: str, environment: dict[str, str]
    ) -> ServiceProcess:
        service = ServiceProcess(
            name,
            command,
            platform_environment(self.data_dir, **environment),
            health_url,
            self.data_dir / f"{name}.log",
        )
        self.services.append(service)
        return service

    def stop_all(self) -> None:
        for service in self.services:
            service.stop()


@contextmanager
def exclusive_lock(database: Path) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock on ``database`` from this process, as a stuck or crashed
    writer elsewhere would: every other writer waits for its busy timeout, then fails.
    (In WAL mode readers still read; that is SQLite, not a weakness of the test.)"""
    connection = sqlite3.connect(database, timeout=5, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield connection
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def query(database: Path, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    """Read the real store or queue file the services use."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def stored_client_ids(data_dir: Path) -> set[str]:
    return {row[0] for row in query(data_dir / "intake.db", "SELECT client_id FROM submissions")}


def dead_lettered(data_dir: Path) -> int:
    rows = query(
        data_dir / "queue.db", "SELECT count(*) FROM messages WHERE dead_lettered_at IS NOT NULL"
    )
    return int(rows[0][0])


@dataclass(frozen=True)
class MailFile:
    message_id: str
    subject: str


def mail_files(data_dir: Path) -> list[MailFile]:
    """The ``.eml`` files the file mailer wrote (one per Message-ID: a resend overwrites)."""
    found = []
    for path in sorted((data_dir / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found.append(MailFile(str(message["Message-ID"]), str(message["Subject"])))
    return found


def client_id_in(subject: str) -> str:
    """Notification subjects read ``New client CL-XXXX-XXXX-XXXX: Company``."""
    return subject.removeprefix("New client ").split(":", 1)[0]


def metric(text: str, name: str, **labels: str) -> float | None:
    """A sample's value from a Prometheus exposition, ``None`` when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def scrape(url: str, name: str, **labels: str) -> float | None:
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None
    return metric(response.text, name, **labels)


def run_cli(
    data_dir: Path, *arguments: str, within: float = 60
) -> subprocess.CompletedProcess[str]:
    """``uv run intake …`` as an operator would type it (the same entry point, no uv)."""
    return subprocess.run(
        [sys.executable, "-m", "intake_core.cli", *arguments],
        env=platform_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=within,
        check=False,
    )


# --------------------------------------------------------------------------- the SMTP sink


@dataclass(frozen=True)
class Received:
    message_id: str
    client_id: str
    started_at: float  # time.monotonic() when the whole message had arrived


class SmtpSink:
    """A real SMTP server (aiosmtpd) in a thread, standing in for the company's mail relay.

    ``delay_seconds`` holds each message after its data has arrived and before ``250``: a
    crash of the sender in that window is the documented resend window. ``failing`` answers
    every DATA with a transient ``451``, the way a relay in trouble does.
    """

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.failing = False
        self.received: list[Received] = []  # accepted messages (data in full, 451 not sent)
        self.acknowledged: list[str] = []  # Message-IDs answered with 250
        self.refused = 0  # DATA answered with 451
        self._lock = threading.Lock()
        (self.port,) = free_ports(1)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    def environment(self) -> dict[str, str]:
        """What points the notify worker at this sink."""
        return {
            "MAILER": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_STARTTLS": "false",
        }

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        if self.failing:
            with self._lock:
                self.refused += 1
            return "451 4.3.0 Mail relay unavailable, try again later"
        message_id = str(message["Message-ID"])
        arrived = Received(message_id, client_id_in(str(message["Subject"])), time.monotonic())
        with self._lock:
            self.received.append(arrived)
        await asyncio.sleep(self.delay_seconds)
        with self._lock:
            self.acknowledged.append(message_id)
        return "250 OK"

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def message_ids(self) -> list[str]:
        return [received.message_id for received in self.snapshot()]


# --------------------------------------------------------------------------- the UI's form

COMPANY_FORM = {
    "company.name": "Fabrikam Chaos Ltd",
    "company.industry": "manufacturing",
    "company.size": "120",
    "company.address.line1": "1 High Street",
    "company.address.line2": "",
    "company.address.city": "Leeds",
    "company.address.region": "",
    "company.address.postalCode": "LS1 4AP",
    "company.address.country": "GB",
    "company.contact.name": "Grace Hopper",
    "company.contact.email": "grace@example.com",
    "company.contact.phone": "020 7946 0958",
}
ENGAGEMENT_FORM = {
    "engagement.serviceType": "kubernetes",
    "engagement.scope": "Survive a dead database without losing a word.",
    "engagement.timeline": "1-3-months",
    "engagement.budgetRange": "25k-100k",
    "engagement.notes": "Typed before the outage, still here after it.",
    "consent.accepted": "yes",
}


def form_submission(html: str) -> tuple[str, dict[str, str]]:
    """What a browser without JavaScript sends when the page's form is submitted as shown:
    its action, and every control's current value (a checkbox only when checked)."""
    form = BeautifulSoup(html, "html.parser").find("form", attrs={"method": "post"})
    assert isinstance(form, Tag), "the page has no form"
    values: dict[str, str] = {}
    for control in form.find_all(["input", "select", "textarea"]):
        name = control.get("name")
        if not isinstance(name, str) or control.get("type") in ("submit", "button"):
            continue
        if control.name == "textarea":
            values[name] = control.text
        elif control.name == "select":
            chosen = control.find("option", selected=True) or control.find("option")
            values[name] = str(chosen.get("value", "")) if isinstance(chosen, Tag) else ""
        elif control.get("type") == "checkbox":
            if control.has_attr("checked"):
                values[name] = str(control.get("value", "on"))
        else:
            values[name] = str(control.get("value", ""))
    return str(form.get("action")), values


def alert_text(html: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one('[role="alert"]')
    return found.get_text(" ", strip=True) if found is not None else ""


class HangingServer:
    """A dependency that accepts every connection and never answers a byte: the slowest
    server there is. Counts the connections it was offered."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"{LOCAL}:{self.port}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            self._held.append(connection)

    def __enter__(self) -> HangingServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        for connection in (*self._held, self._listener):
            connection.close()
