"""Each port's contract suite runs against every adapter that can run here.

Azure adapters join these parameter lists as they are built: Cosmos DB against
@vercel/cosmosdb-server (or the account COSMOS_TEST_ENDPOINT names); Service Bus against a
local AMQP test broker and, where a Docker engine answers, the official Service Bus emulator
(skipped, with the reason, where none does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake_core.adapters.cosmos_store import CosmosSubmissionStore
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.ports.store import SubmissionStore
from support.amqp_broker import AmqpTestBroker
from support.cosmos_server import (
    EMULATOR_KEY,
    CosmosTarget,
    CosmosTestServer,
    configured_target,
    drop_database,
)
from support.servicebus_emulator import LOCK_SECONDS as EMULATOR_LOCK_SECONDS
from support.servicebus_emulator import (
    START_TIMEOUT_SECONDS,
    ServiceBusEmulator,
    docker_unavailable_reason,
)

# A test asserts the message is invisible right after receiving it: the lock must outlast any
# stall of a loaded CI machine. The SDK also needs a few AMQP round trips (~50 ms each) between
# receiving and settling. The emulator's shortest lock is five seconds.
LOCK_SECONDS = {
    "local": 1.0,
    "servicebus": 1.0,
    "servicebus-emulator": float(EMULATOR_LOCK_SECONDS),
}
# How long a test waits for a message it knows is ready: the in-process queue and the local
# broker hand it over at once; the emulator, behind Docker's port mapping and backed by SQL,
# needs a round trip or two. Kept well under the lock, so "redelivered at once" still means it.
ARRIVAL_SECONDS = {"local": 0.0, "servicebus": 0.0, "servicebus-emulator": 1.0}
MAX_DELIVERY_COUNT = 3

# A test that starts the emulator pulls two images and boots SQL first.
EMULATOR = pytest.param(
    "servicebus-emulator",
    marks=[pytest.mark.emulator, pytest.mark.timeout(START_TIMEOUT_SECONDS)],
)


@dataclass(frozen=True)
class ServiceBusTarget:
    """A Service Bus to run a test against: where it is, a queue of the test's own, and how
    long that queue locks a message."""

    connection_string: str
    queue: str
    lock_seconds: float


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


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skips, with the reason, every test that needs a Docker engine when none answers."""
    reason = docker_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def servicebus_emulator(
    docker_engine: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceBusEmulator]:
    """The official emulator, started once for the run; each test takes its own queue."""
    config_dir = tmp_path_factory.mktemp("servicebus-emulator")
    with ServiceBusEmulator(config_dir, max_delivery_count=MAX_DELIVERY_COUNT) as emulator:
        yield emulator


def service_bus_target(kind: str, request: pytest.FixtureRequest) -> ServiceBusTarget:
    if kind == "servicebus-emulator":
        emulator: ServiceBusEmulator = request.getfixturevalue("servicebus_emulator")
        return ServiceBusTarget(
            emulator.connection_string, emulator.fresh_queue(), emulator.lock_seconds
        )
    broker: AmqpTestBroker = request.getfixturevalue("amqp_broker")
    # Not the adapter's default queue, so a test that reads it back proves the name is used.
    return ServiceBusTarget(broker.connection_string, "contract", broker.lock_seconds)


@pytest.fixture(params=["servicebus", EMULATOR])
def service_bus(request: pytest.FixtureRequest) -> ServiceBusTarget:
    """A Service Bus that speaks AMQP 1.0 to the SDK: the local test broker or the emulator."""
    return service_bus_target(request.param, request)


@pytest.fixture(params=["local", "servicebus", EMULATOR])
async def bus(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[LocalQueue | ServiceBusQueue]:
    if request.param != "local":
        target = service_bus_target(request.param, request)
        queue = ServiceBusQueue.from_connection_string(target.connection_string, target.queue)
        yield queue
        await queue.close()
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


@pytest.fixture
def arrival_seconds(bus: object, request: pytest.FixtureRequest) -> float:
    """How long to wait on the ``bus`` under test for a message known to be ready."""
    return ARRIVAL_SECONDS[request.node.callspec.params["bus"]]
