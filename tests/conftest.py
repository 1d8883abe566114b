"""Fixtures every suite may use: a valid submission and embedded adapters in a temp folder."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from support import VALID_BODY


@pytest.fixture(scope="session", autouse=True)
def tracer_provider() -> TracerProvider:
    """An SDK tracer provider that records, as entry points install when they export, so the
    apps under test trace as they do when deployed. OpenTelemetry allows one per process."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    return provider


@pytest.fixture
def submission_body() -> dict[str, Any]:
    """A fresh deep copy of a valid ``POST /v1/submissions`` body, safe to mutate."""
    return copy.deepcopy(VALID_BODY)


@pytest.fixture
async def sqlite_store(tmp_path: Any) -> AsyncIterator[SqliteSubmissionStore]:
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def local_queue(tmp_path: Any) -> AsyncIterator[LocalQueue]:
    queue = LocalQueue(tmp_path / "queue.db", lock_seconds=30, max_delivery_count=3)
    await queue.open()
    yield queue
    await queue.close()
