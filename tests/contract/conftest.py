"""Each port's contract suite runs against every adapter that can run here.

Azure adapters join these parameter lists as they are built: Cosmos DB against
@vercel/cosmosdb-server (or the account COSMOS_TEST_ENDPOINT names), Service Bus against a
local AMQP test broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from intake_core.adapters.cosmos_store import CosmosSubmissionStore
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.ports import SubmissionStore
from support.amqp_broker import AmqpTestBroker
from support.cosmos_server import (
    EMULATOR_KEY,
    CosmosTarget,
    CosmosTestServer,
    configured_target,
    drop_database,
)

# The SDK needs a few AMQP round trips (~50 ms each) between receiving and settling: a broker
# lock shorter than a second would expire before the test settles.
LOCK_SECONDS = {"local": 0.3, "servicebus": 1.0}
MAX_DELIVERY_COUNT = 3


@pytest.fixture(scope="session")
def cosmos_target() -> Iterator[CosmosTarget]:
    """One Cosmos DB for the whole run: the configured account, or the npm test server."""
    configured = configured_target()
    if configured is not None:
        yield configured
        return
    with CosmosTestServer() as server:
        yield CosmosTarget(server.endpoint, EMULATOR_KEY, is_test_server=True)


@pytest.fixture(params=["sqlite", "cosmos"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SubmissionStore]:
    if request.param == "cosmos":
        target: CosmosTarget = request.getfixturevalue("cosmos_target")
        database = target.database_name()
        cosmos = CosmosSubmissionStore(target.endpoint, database, key=target.key, provision=True)
        await cosmos.open()
        yield cosmos
        await cosmos.close()
        await drop_database(target, database)
        return
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
