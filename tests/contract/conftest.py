"""Each port's contract suite runs against every adapter that can run here.

Azure adapters join these parameter lists as they are built (Cosmos DB against
@vercel/cosmosdb-server, Service Bus against a local AMQP test broker).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.ports import SubmissionStore
from support.amqp_broker import AmqpTestBroker

# The SDK needs a few AMQP round trips (~50 ms each) between receiving and settling: a broker
# lock shorter than a second would expire before the test settles.
LOCK_SECONDS = {"local": 0.3, "servicebus": 1.0}
MAX_DELIVERY_COUNT = 3


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SubmissionStore]:
    adapter = SqliteSubmissionStore(tmp_path / "intake.db")
    await adapter.open()
    yield adapter
    await adapter.close()


@pytest.fixture
def amqp_broker() -> Iterator[AmqpTestBroker]:
    """A Service Bus stand-in speaking real AMQP 1.0 on a free port, on its own thread."""
    with AmqpTestBroker(
        lock_seconds=LOCK_SECONDS["servicebus"], max_delivery_count=MAX_DELIVERY_COUNT
    ) as broker:
        yield broker


@pytest.fixture(params=["local", "servicebus"])
async def bus(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[LocalQueue | ServiceBusQueue]:
    if request.param == "servicebus":
        broker = request.getfixturevalue("amqp_broker")
        service_bus = ServiceBusQueue.from_connection_string(broker.connection_string)
        yield service_bus
        await service_bus.close()
        return
    adapter = LocalQueue(
        tmp_path / "queue.db",
        lock_seconds=LOCK_SECONDS["local"],
        max_delivery_count=MAX_DELIVERY_COUNT,
    )
    await adapter.open()
    yield adapter
    await adapter.close()


@pytest.fixture
def lock_seconds(bus: object, request: pytest.FixtureRequest) -> float:
    """How long the ``bus`` under test keeps a message locked."""
    return LOCK_SECONDS[request.node.callspec.params["bus"]]
