"""intake-api over real HTTP semantics (httpx + ASGI) with the real SQLite store and queue."""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from intake_api.app import create_app
from intake_api.dependencies import Adapters
from intake_api.settings import IntakeApiSettings
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.models import Submission
from intake_core.ports.staff import SearchQuery
from support import VALID_BODY

# What an error body must never contain: signs of a stack trace, Python or the storage engine.
INTERNALS = ("Traceback", 'File "', "pydantic", "intake_core", "intake_api", "sqlite", "Error:")


@pytest.fixture
def valid_body() -> dict[str, Any]:
    return copy.deepcopy(VALID_BODY)


@pytest.fixture
def settings(tmp_path) -> IntakeApiSettings:
    return IntakeApiSettings(
        INTAKE_DATA_DIR=tmp_path,
        rate_limit_enabled=False,
        relay_poll_interval_seconds=0.05,
        readiness_timeout_seconds=0.5,
    )


@pytest.fixture
async def store(settings) -> AsyncIterator[SqliteSubmissionStore]:
    store = SqliteSubmissionStore(settings.sqlite_path)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def queue(settings) -> AsyncIterator[LocalQueue]:
    queue = LocalQueue(settings.queue_path)
    await queue.open()
    yield queue
    await queue.close()


@asynccontextmanager
async def _running(
    app, client_address: tuple[str, int] = ("198.51.100.10", 40000)
) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan (adapters, relay) around an HTTP client talking to it."""
    transport = httpx.ASGITransport(app=app, client=client_address)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client,
    ):
        yield client


@pytest.fixture
def serve(settings, store, queue) -> Callable[..., Any]:
    """``async with serve(**setting_overrides, adapters=...) as client`` for a custom app."""

    def start(adapters: Adapters | None = None, **overrides: Any):
        custom = settings.model_copy(update=overrides) if overrides else settings
        return _running(create_app(custom, adapters or Adapters(store=store, publisher=queue)))

    return start


@pytest.fixture
def running() -> Callable[..., Any]:
    """``async with running(app, (host, port)) as client``: the lifespan plus an HTTP client."""
    return _running


@pytest.fixture
async def client(serve) -> AsyncIterator[httpx.AsyncClient]:
    async with serve() as client:
        yield client


@pytest.fixture
def all_records(store) -> Callable[[], Any]:
    async def records() -> list[Submission]:
        return (await store.search(SearchQuery(limit=100))).items

    return records


@pytest.fixture
def outbox_rows(settings) -> Callable[[str], int]:
    """Rows in the outbox for a Client ID, read straight from the file (no port lists them)."""

    def count(client_id: str) -> int:
        with sqlite3.connect(settings.sqlite_path) as connection:
            (rows,) = connection.execute(
                "SELECT count(*) FROM outbox WHERE client_id = ?", (client_id,)
            ).fetchone()
        return int(rows)

    return count


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    for marker in INTERNALS:
        assert marker not in response.text
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


@pytest.fixture
def problem() -> Callable[[httpx.Response, int], dict[str, Any]]:
    return assert_problem
