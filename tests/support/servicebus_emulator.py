"""The official Azure Service Bus emulator in Docker, started through ``testcontainers``.

The event bus contract suite runs on this machine against a proton test broker
(``support.amqp_broker``); where a Docker engine answers (GitHub Actions' ubuntu runners,
laptops) the same tests also run against Microsoft's emulator, which speaks the whole of
Service Bus: duplicate detection over a time window, max delivery count, the dead-letter
sub-queue, ``$management``. testcontainers-python has no Service Bus module (4.15 ships Azurite
and Cosmos DB ones), so this wires the two containers by hand.

What the emulator needs, as Microsoft's installer repository (Azure/azure-service-bus-emulator-installer:
``Docker-Compose-Template/docker-compose-default.yml``, ``ServiceBus-Emulator/Schema/Config-schema.json``,
``README.md``) and testcontainers-java's ``ServiceBusEmulatorContainer`` describe it:

- a SQL backend on the same Docker network, named by ``SQL_SERVER``, both containers given the
  same ``MSSQL_SA_PASSWORD`` and ``ACCEPT_EULA=Y``;
- ``/ServiceBus_Emulator/ConfigFiles/Config.json``: ``UserConfig.Namespaces`` (exactly one, named
  ``sbemulatorns``, with ``Queues`` and ``Topics``) and ``UserConfig.Logging.Type``. Entities
  cannot be created at run time. Queue bounds: ``LockDuration`` PT5S to PT5M,
  ``MaxDeliveryCount`` 1 to 10, ``DuplicateDetectionHistoryTimeWindow`` PT5S to PT5M,
  ``DefaultMessageTimeToLive`` at most PT1H, at most 50 queues and topics;
- AMQP on 5672, reached with the fixed development connection string plus the mapped port.

It logs "Emulator Service is Successfully Up!" when it is up; others report that its queues
can answer a little later, so a send and a receive on a warm-up queue prove it ready. The file
is copied into the container before it starts (what testcontainers-java does) rather than
bind-mounted, so a remote Docker host works too.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiveMode
from azure.servicebus.exceptions import ServiceBusError
from docker.errors import DockerException
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

# The pair the Helm chart's kind values run (charts/onboarding/values.yaml), pinned so a new
# emulator release cannot change the contract run under our feet.
EMULATOR_IMAGE = "mcr.microsoft.com/azure-messaging/servicebus-emulator:1.1.2"
SQL_IMAGE = "mcr.microsoft.com/azure-sql-edge:1.0.7"
NAMESPACE = "sbemulatorns"
CONFIG_IN_CONTAINER = "/ServiceBus_Emulator/ConfigFiles/Config.json"
AMQP_PORT = 5672
SQL_ALIAS = "sqlserver"
READY_LOG = "Emulator Service is Successfully Up!"

LOCK_SECONDS = 5  # the emulator's shortest lock (PT5S): lock-expiry tests wait this long
DUPLICATE_DETECTION_WINDOW = "PT5M"  # its longest; production has PT10M (infra/bicep)
MESSAGE_TIME_TO_LIVE = "PT1H"  # its longest
MAX_ENTITIES = 50
WARM_UP_QUEUE = "warm-up"
# Entities cannot be created at run time, so each test takes a fresh queue from a pool
# declared up front: tests never see each other's messages, locks or duplicate-detection history.
CONTRACT_QUEUES = tuple(f"contract-{n:02d}" for n in range(40))

PING_TIMEOUT_SECONDS = 5
READY_LOG_TIMEOUT_SECONDS = 240  # after the pulls: SQL, then the emulator, boot
WARM_UP_TIMEOUT_SECONDS = 120
WARM_UP_RECEIVE_SECONDS = 5
WARM_UP_PAUSE_SECONDS = 2
# Pulling both images on a cold runner, then booting: what a test that starts it may take.
START_TIMEOUT_SECONDS = 600


def docker_unavailable_reason() -> str | None:
    """Why the emulator cannot run here, or None when a Docker engine answers a ping.

    Asks through testcontainers' own client, so ``DOCKER_HOST``, a Docker context and
    ``~/.testcontainers.properties`` count exactly as they will when the containers start.
    """
    try:
        client = DockerClient(timeout=PING_TIMEOUT_SECONDS).client
        try:
            client.ping()
        finally:
            client.close()
    except (DockerException, OSError) as error:  # requests' errors are OSErrors
        return (
            f"needs a Docker engine for the official Service Bus emulator (none reachable: {error})"
        )
    return None


def sql_password() -> str:
    """A fresh SA password per run, so none is committed: the SQL backend refuses a password
    without three of upper case, lower case, digits and symbols, which the suffix guarantees."""
    return secrets.token_urlsafe(24) + "Aa1-"


def queue_properties(lock_seconds: int, max_delivery_count: int) -> dict[str, Any]:
    """Production's queue (infra/bicep/modules/servicebus.bicep) within the emulator's bounds."""
    return {
        "DeadLetteringOnMessageExpiration": True,
        "DefaultMessageTimeToLive": MESSAGE_TIME_TO_LIVE,
        "DuplicateDetectionHistoryTimeWindow": DUPLICATE_DETECTION_WINDOW,
        "ForwardDeadLetteredMessagesTo": "",
        "ForwardTo": "",
        "LockDuration": f"PT{lock_seconds}S",
        "MaxDeliveryCount": max_delivery_count,
        "RequiresDuplicateDetection": True,
        "RequiresSession": False,
    }


def emulator_config(
    queues: Sequence[str], lock_seconds: int, max_delivery_count: int
) -> dict[str, Any]:
    """The emulator's ``Config.json``: one namespace holding ``queues``, logs to the console
    (so a failed start shows them in the error testcontainers raises)."""
    if len(queues) > MAX_ENTITIES:
        raise ValueError(f"the emulator holds at most {MAX_ENTITIES} queues, not {len(queues)}")
    properties = queue_properties(lock_seconds, max_delivery_count)
    return {
        "UserConfig": {
            "Namespaces": [
                {
                    "Name": NAMESPACE,
                    "Queues": [{"Name": name, "Properties": properties} for name in queues],
                    "Topics": [],
                }
            ],
            "Logging": {"Type": "Console"},
        }
    }


def connection_string(host: str, port: int) -> str:
    """The emulator's published development connection string (its key is not a secret)."""
    return (
        f"Endpoint=sb://{host}:{port};SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"
    )


def _round_trip(connection: str) -> bool:
    """Send one message to the warm-up queue and take it back."""
    with ServiceBusClient.from_connection_string(connection, retry_total=0) as client:
        with client.get_queue_sender(WARM_UP_QUEUE) as sender:
            # A fresh id each time: the queue drops a repeated one (duplicate detection).
            sender.send_messages(ServiceBusMessage("warm-up", message_id=uuid.uuid4().hex))
        with client.get_queue_receiver(
            WARM_UP_QUEUE, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
        ) as receiver:
            return bool(
                receiver.receive_messages(
                    max_message_count=1, max_wait_time=WARM_UP_RECEIVE_SECONDS
                )
            )


def wait_until_queues_answer(connection: str, timeout: float = WARM_UP_TIMEOUT_SECONDS) -> None:
    """Retries a round trip until one works: the emulator says it is up before its queues
    answer, and a test that met a half-ready emulator would fail for the wrong reason."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if _round_trip(connection):
                return
        except ServiceBusError as error:
            last_error = error
        time.sleep(WARM_UP_PAUSE_SECONDS)
    raise TimeoutError(
        f"the Service Bus emulator logged {READY_LOG!r} but its queues did not answer within "
        f"{timeout} s (last error: {last_error!r})"
    )


class ServiceBusEmulator:
    """The emulator and its SQL backend on a private Docker network, for as long as the
    ``with`` block lasts; ``connection_string`` reaches it and ``fresh_queue()`` hands out
    an unused queue."""

    def __init__(self, config_dir: Path, max_delivery_count: int) -> None:
        self.config_path = config_dir / "Config.json"
        self.lock_seconds = LOCK_SECONDS
        self.max_delivery_count = max_delivery_count
        self.connection_string = ""
        self._unused: Iterator[str] = iter(CONTRACT_QUEUES)
        self._containers = ExitStack()

    def fresh_queue(self) -> str:
        name = next(self._unused, None)
        if name is None:
            raise RuntimeError(
                f"all {len(CONTRACT_QUEUES)} emulator queues are taken: declare more in "
                "support.servicebus_emulator.CONTRACT_QUEUES"
            )
        return name

    def write_config(self) -> Path:
        """Config.json for the warm-up queue and the pool, where the emulator will read it."""
        config = emulator_config(
            [WARM_UP_QUEUE, *CONTRACT_QUEUES], self.lock_seconds, self.max_delivery_count
        )
        self.config_path.write_text(json.dumps(config, indent=2))
        return self.config_path

    def __enter__(self) -> ServiceBusEmulator:
        self.write_config()
        with ExitStack() as stack:
            emulator = self._start(stack)
            host, port = emulator.get_container_host_ip(), emulator.get_exposed_port(AMQP_PORT)
            self.connection_string = connection_string(host, port)
            wait_until_queues_answer(self.connection_string)
            self._containers = stack.pop_all()
        return self

    def _start(self, stack: ExitStack) -> DockerContainer:
        """Network, SQL backend, emulator; each is registered to be removed in reverse order."""
        password = sql_password()
        network = stack.enter_context(Network())
        stack.enter_context(
            DockerContainer(SQL_IMAGE)
            .with_network(network)
            .with_network_aliases(SQL_ALIAS)
            .with_envs(ACCEPT_EULA="Y", MSSQL_SA_PASSWORD=password)
        )
        return stack.enter_context(
            DockerContainer(EMULATOR_IMAGE)
            .with_network(network)
            .with_envs(ACCEPT_EULA="Y", SQL_SERVER=SQL_ALIAS, MSSQL_SA_PASSWORD=password)
            .with_copy_into_container(self.config_path, CONFIG_IN_CONTAINER)
            .with_exposed_ports(AMQP_PORT)
            .waiting_for(
                LogMessageWaitStrategy(re.escape(READY_LOG)).with_startup_timeout(
                    READY_LOG_TIMEOUT_SECONDS
                )
            )
        )

    def __exit__(self, *_: object) -> None:
        self._containers.close()
