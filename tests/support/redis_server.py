"""A real ``redis-server`` for the read cache tests: its own free ports, password and TLS.

Started from the Debian package's binary in a temporary folder with persistence off
(``--save '' --appendonly no``), so nothing the tests cache reaches a disk; stopped by its PID.
It listens twice, like Azure Cache for Redis: plain TCP and TLS (a throwaway certificate),
both behind a password. When the binary is missing and we are root it is installed with apt;
otherwise the tests fail with what to do: the cache contract must run against a real Redis.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from intake_core.adapters.memory_cache import MemoryReadCache
from intake_core.adapters.redis_cache import RedisReadCache
from intake_core.ports.cache import ReadCache
from support.tls import self_signed_localhost

START_SECONDS = 10
# For tests of what is cached, not of a slow cache: a loaded CI machine can stall the local
# redis-server past the production client timeout (0.5 s), which would turn a write into a 503.
LIVE_REDIS_TIMEOUT_SECONDS = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0:
        install = ["apt-get", "install", "-y", "-qq", "redis-server"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=False)
        found = shutil.which("redis-server")
        if found:
            return found
    pytest.fail(
        "redis-server is needed by the read cache tests and could not be installed:"
        " run `apt-get install -y redis-server` (Debian/Ubuntu) or put redis-server on PATH",
        pytrace=False,
    )


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.password = secrets.token_urlsafe(24)
        self.port = self.tls_port = 0
        self.certificate = Path()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def tls_url(self) -> str:
        return (
            f"rediss://:{self.password}@127.0.0.1:{self.tls_port}/0?ssl_ca_certs={self.certificate}"
        )

    def __enter__(self) -> RedisServer:
        binary = redis_binary()
        self.certificate, key = self_signed_localhost(self.folder)
        for _ in range(3):  # a free port can be taken between probing and binding
            self.port, self.tls_port = _free_port(), _free_port()
            self._process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--tls-port", str(self.tls_port), "--tls-cert-file", str(self.certificate),
                 "--tls-key-file", str(key), "--tls-auth-clients", "no",
                 "--requirepass", self.password, "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                return self
            self.stop()
        log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start:\n{log}")

    def _wait_ready(self) -> bool:
        assert self._process is not None
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + START_SECONDS
        try:
            while time.monotonic() < deadline and self._process.poll() is None:
                try:
                    return bool(client.ping())
                except redis.RedisError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    def client(self) -> redis.Redis:
        """A plain synchronous client, to look at what the server really holds."""
        return redis.Redis.from_url(self.url)

    def flush(self) -> None:
        with self.client() as client:
            client.flushall()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None

    def __exit__(self, *_: object) -> None:
        self.stop()


def empty_read_cache(kind: str, request: pytest.FixtureRequest) -> ReadCache:
    """A fresh read cache: ``memory``, or ``redis`` on the test module's ``redis_server``."""
    if kind == "memory":
        return MemoryReadCache()
    server: RedisServer = request.getfixturevalue("redis_server")
    server.flush()
    return RedisReadCache.from_url(server.url, LIVE_REDIS_TIMEOUT_SECONDS)
