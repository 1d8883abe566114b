"""A Cosmos DB to test against: ``@vercel/cosmosdb-server`` (in memory, HTTPS on 127.0.0.1),
or whatever ``COSMOS_TEST_ENDPOINT`` names (the official emulator, a real account).

The SDK skips certificate checks for localhost and 127.0.0.1, so the npm server's self-signed
certificate needs no option. The npm server runs from ``tests/support/cosmos-server`` (``start.mjs`` fixes two of its
handlers); ``npm ci`` installs it there the first time. It is not atomic and has no TTL or
change feed: tests that need those check :attr:`CosmosTarget.is_test_server` and skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

SERVER_DIR = Path(__file__).parent / "cosmos-server"
# The key the official emulator publishes (not a secret); the npm server accepts any key.
EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
START_TIMEOUT_SECONDS = 30
NPM_CI_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class CosmosTarget:
    endpoint: str
    key: str
    is_test_server: bool

    def database_name(self) -> str:
        """A fresh database per test, so tests never see each other's documents."""
        return f"test-{uuid.uuid4().hex[:12]}"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to run the Cosmos DB test server (Node 20 + npm)")
    return npm


def ensure_installed() -> None:
    if (SERVER_DIR / "node_modules" / "@vercel" / "cosmosdb-server").is_dir():
        return
    subprocess.run(
        [_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=SERVER_DIR,
        check=True,
        timeout=NPM_CI_TIMEOUT_SECONDS,
    )


class CosmosTestServer:
    """``node start.mjs`` on a free port, for as long as the ``with`` block lasts."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> CosmosTestServer:
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is needed to run the Cosmos DB test server")
        self._process = subprocess.Popen(
            [node, "start.mjs", "0"],
            cwd=SERVER_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # "listening <port>", or EOF if it died
        if not line.startswith("listening "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the Cosmos DB test server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def __exit__(self, *_: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def configured_target() -> CosmosTarget | None:
    """The account ``COSMOS_TEST_ENDPOINT`` names (key: ``COSMOS_TEST_KEY``, else the
    emulator's), or None to start the npm server."""
    endpoint = os.environ.get("COSMOS_TEST_ENDPOINT")
    if not endpoint:
        return None
    return CosmosTarget(endpoint, os.environ.get("COSMOS_TEST_KEY", EMULATOR_KEY), False)


async def drop_database(target: CosmosTarget, name: str) -> None:
    from azure.cosmos.aio import CosmosClient

    async with CosmosClient(target.endpoint, credential=target.key) as client:
        await client.delete_database(name)
