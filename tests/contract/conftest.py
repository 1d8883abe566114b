"""Each port's contract suite runs against every adapter that can run here.

Azure adapters join these parameter lists as they are built (Cosmos DB against
@vercel/cosmosdb-server, Service Bus against a local AMQP test broker).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.ports import SubmissionStore


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SubmissionStore]:
    adapter = SqliteSubmissionStore(tmp_path / "intake.db")
    await adapter.open()
    yield adapter
    await adapter.close()


@pytest.fixture(params=["local"])
async def bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LocalQueue]:
    adapter = LocalQueue(tmp_path / "queue.db", lock_seconds=0.3, max_delivery_count=3)
    await adapter.open()
    yield adapter
    await adapter.close()
