"""What can be checked of the Service Bus emulator's setup without Docker: the Config.json it
is given, the SQL password, the connection string the SDK is handed, the warm-up round trip
(against the local AMQP test broker) and the skip reason.

The emulator itself runs only where a Docker engine answers (``support.servicebus_emulator``);
these keep its setup honest on every machine.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest
from azure.servicebus.aio import ServiceBusClient

from support.amqp_broker import AmqpTestBroker, free_port
from support.servicebus_emulator import (
    CONTRACT_QUEUES,
    LOCK_SECONDS,
    MAX_ENTITIES,
    NAMESPACE,
    WARM_UP_QUEUE,
    ServiceBusEmulator,
    connection_string,
    docker_unavailable_reason,
    emulator_config,
    sql_password,
    wait_until_queues_answer,
)

# The emulator's own schema (Config-schema.json in Microsoft's installer repository): entity
# names, and ISO 8601 durations in whole hours, minutes or seconds.
ENTITY_NAME = re.compile(r"^[A-Za-z0-9][\w\-./]*[A-Za-z0-9]$")
DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def seconds(duration: str) -> int:
    match = DURATION.match(duration)
    assert match, duration
    hours, minutes, secs = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + secs


def test_the_config_file_declares_every_queue_in_the_one_namespace_the_emulator_accepts(
    tmp_path: Path,
) -> None:
    written = ServiceBusEmulator(tmp_path, max_delivery_count=3).write_config()
    config = json.loads(written.read_text())
    queues = [WARM_UP_QUEUE, *CONTRACT_QUEUES]

    [namespace] = config["UserConfig"]["Namespaces"]
    assert namespace["Name"] == NAMESPACE == "sbemulatorns"
    assert namespace["Topics"] == []
    assert [queue["Name"] for queue in namespace["Queues"]] == queues
    assert all(ENTITY_NAME.match(name) for name in queues)
    assert len(queues) == len(set(queues)) <= MAX_ENTITIES
    assert {queue["Properties"]["LockDuration"] for queue in namespace["Queues"]} == {
        f"PT{LOCK_SECONDS}S"
    }
    assert config["UserConfig"]["Logging"]["Type"] == "Console"


def test_each_queue_is_production_s_within_the_emulator_s_bounds() -> None:
    config = emulator_config(["contract-00"], lock_seconds=5, max_delivery_count=3)
    [queue] = config["UserConfig"]["Namespaces"][0]["Queues"]
    properties = queue["Properties"]

    assert properties["RequiresDuplicateDetection"] is True  # message_id = event id
    assert properties["DeadLetteringOnMessageExpiration"] is True
    assert properties["RequiresSession"] is False
    assert properties["MaxDeliveryCount"] == 3
    assert seconds(properties["LockDuration"]) == 5
    assert 5 <= seconds(properties["LockDuration"]) <= 300
    assert 5 <= seconds(properties["DuplicateDetectionHistoryTimeWindow"]) <= 300
    assert seconds(properties["DefaultMessageTimeToLive"]) <= 3600


def test_the_config_refuses_more_queues_than_the_emulator_holds() -> None:
    too_many = [f"q{n}" for n in range(MAX_ENTITIES + 1)]
    with pytest.raises(ValueError, match="at most 50"):
        emulator_config(too_many, lock_seconds=5, max_delivery_count=3)


def test_the_sql_password_is_fresh_and_strong_enough_for_sql_server() -> None:
    first, second = sql_password(), sql_password()
    assert first != second
    for password in (first, second):
        assert 8 <= len(password) <= 128
        classes = [string.ascii_uppercase, string.ascii_lowercase, string.digits]
        assert all(any(c in chars for c in password) for chars in classes)
        assert any(not c.isalnum() for c in password)
        assert ";" not in password  # it ends up inside a SQL connection string


def test_each_test_gets_a_queue_of_its_own_until_the_pool_runs_out(tmp_path: Path) -> None:
    emulator = ServiceBusEmulator(tmp_path, max_delivery_count=3)
    handed_out = [emulator.fresh_queue() for _ in CONTRACT_QUEUES]
    assert handed_out == list(CONTRACT_QUEUES)
    with pytest.raises(RuntimeError, match="CONTRACT_QUEUES"):
        emulator.fresh_queue()


async def test_the_sdk_reads_the_emulator_connection_string_as_plain_amqp_on_the_mapped_port() -> (
    None
):
    client = ServiceBusClient.from_connection_string(connection_string("localhost", 49153))
    try:
        assert client.fully_qualified_namespace == "localhost:49153"
        # UseDevelopmentEmulator=true: no TLS, the port from the endpoint (not 5671).
        assert client._config.use_tls is False
    finally:
        await client.close()


def test_the_warm_up_returns_once_a_message_makes_the_round_trip(
    amqp_broker: AmqpTestBroker,
) -> None:
    wait_until_queues_answer(amqp_broker.connection_string, timeout=20)


def test_the_warm_up_gives_up_with_the_last_error_when_nothing_answers() -> None:
    nowhere = connection_string("127.0.0.1", free_port())
    with pytest.raises(TimeoutError, match=r"did not answer within 1 s .*Connection refused"):
        wait_until_queues_answer(nowhere, timeout=1)


def test_without_a_docker_engine_the_reason_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    reason = docker_unavailable_reason()
    assert reason is not None
    assert reason.startswith(
        "needs a Docker engine for the official Service Bus emulator (none reachable: "
    )
