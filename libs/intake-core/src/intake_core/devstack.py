"""``intake run``: start every service on embedded adapters, with prefixed logs.

One supervisor for the laptop and for end-to-end tests: it starts the processes, waits until
each answers ``/healthz``, prints the URLs, and stops them all on Ctrl-C (SIGINT/SIGTERM).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

COLOURS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m")
RESET = "\033[0m"


@dataclass(frozen=True)
class Ports:
    ui: int = 8000
    intake_api: int = 8001
    admin_api: int = 8002
    notify_metrics: int = 8003


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    health_url: str | None


def services(ports: Ports) -> list[Service]:
    def uvicorn(factory: str, port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", factory, "--factory",
            "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--timeout-graceful-shutdown", "10",
        ]  # fmt: skip

    local = "http://127.0.0.1"
    return [
        Service(
            "intake-api",
            uvicorn("intake_api.main:app_from_environment", ports.intake_api),
            f"{local}:{ports.intake_api}/healthz",
        ),
        Service(
            "admin-api",
            uvicorn("admin_api.main:app_from_environment", ports.admin_api),
            f"{local}:{ports.admin_api}/healthz",
        ),
        Service(
            "intake-ui",
            uvicorn("intake_ui.main:app_from_environment", ports.ui),
            f"{local}:{ports.ui}/healthz",
        ),
        Service(
            "notify",
            [sys.executable, "-m", "intake_notify.worker"],
            f"{local}:{ports.notify_metrics}/healthz",
        ),
    ]


def service_environment(ports: Ports) -> dict[str, str]:
    """How the services find each other when they all run on this machine."""
    return {
        "INTAKE_API_URL": f"http://127.0.0.1:{ports.intake_api}",
        "ADMIN_API_URL": f"http://127.0.0.1:{ports.admin_api}",
        "PUBLIC_UI_URL": f"http://127.0.0.1:{ports.ui}",
        "NOTIFY_METRICS_PORT": str(ports.notify_metrics),
        "PYTHONUNBUFFERED": "1",
        # Plain lines read better in a terminal; containers keep the JSON default.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
    }


def _pump(name: str, colour: str, stream: object, width: int) -> None:
    assert hasattr(stream, "readline")
    prefix = f"{colour}{name:<{width}} |{RESET} " if sys.stdout.isatty() else f"{name:<{width}} | "
    for line in iter(stream.readline, b""):
        sys.stdout.write(prefix + line.decode(errors="replace"))
        sys.stdout.flush()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def run(ports: Ports = Ports(), startup_timeout: float = 60.0) -> int:
    environment = {**os.environ, **service_environment(ports)}
    width = max(len(service.name) for service in services(ports))
    processes: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for index, service in enumerate(services(ports)):
            process = subprocess.Popen(  # noqa: S603 - fixed commands
                service.command,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append(process)
            colour = COLOURS[index % len(COLOURS)]
            threading.Thread(
                target=_pump, args=(service.name, colour, process.stdout, width), daemon=True
            ).start()
        for service, process in zip(services(ports), processes, strict=True):
            if service.health_url and not _wait_healthy(
                service.health_url, process, startup_timeout
            ):
                print(f"{service.name} did not become healthy; stopping.", flush=True)
                return 1
        _announce(ports)
        while not stopping.is_set():
            for service, process in zip(services(ports), processes, strict=True):
                if process.poll() is not None:
                    print(f"{service.name} exited with {process.returncode}; stopping.", flush=True)
                    return 1
            stopping.wait(0.5)
        return 0
    finally:
        _terminate(processes)


def _announce(ports: Ports) -> None:
    print(
        "\nClient onboarding platform is running:\n"
        f"  form        http://127.0.0.1:{ports.ui}/\n"
        f"  admin       http://127.0.0.1:{ports.ui}/admin\n"
        f"  intake-api  http://127.0.0.1:{ports.intake_api}/openapi.json\n"
        f"  admin-api   http://127.0.0.1:{ports.admin_api}/openapi.json\n"
        f"  emails      {os.environ.get('INTAKE_DATA_DIR', '.data')}/mail/*.eml\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )


def _terminate(processes: Sequence[subprocess.Popen[bytes]], grace: float = 15.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
