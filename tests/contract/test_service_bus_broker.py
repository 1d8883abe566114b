"""What the Service Bus adapter puts on the wire, read back with the SDK's own receiver, and how it
is chosen and checked, over real AMQP: against the local test broker (``support.amqp_broker``) and,
where Docker runs it, the official emulator (``support.servicebus_emulator``); see the
``service_bus`` fixture in conftest.py. Tests about the test broker itself, or that need no
broker, run once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from azure.servicebus import ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient
from azure.servicebus.exceptions import ServiceBusError
from pydantic import ValidationError

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.service_bus import CLOUDEVENTS_JSON, ServiceBusQueue
from intake_core.bootstrap import open_consumer, open_publisher
from intake_core.domain.events import CloudEvent, submission_created
from intake_core.ports.queue import DeadLetter, Delivery
from intake_core.settings import CommonSettings
from support import make_submission
from support.amqp_broker import AmqpTestBroker, free_port

from .conftest import ServiceBusTarget

TRACEPARENT = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
RECEIVE_BATCH = 50


async def _receive_until(bus: ServiceBusQueue, count: int, seconds: float) -> list[Delivery]:
    """What arrives within ``seconds``, until at least ``count`` did: a broker behind Docker may
    hand a burst over in more than one transfer. Asks for more than ``count`` each time, so an
    extra message would show."""
    deadline = time.monotonic() + seconds
    received: list[Delivery] = []
    while len(received) < count and (left := deadline - time.monotonic()) > 0:
        received += await bus.receive(max_messages=RECEIVE_BATCH, wait_seconds=left)
    return received


async def test_a_published_event_carries_its_id_type_and_trace_context_on_the_wire(
    service_bus: ServiceBusTarget,
) -> None:
    event = submission_created(make_submission(), traceparent=TRACEPARENT)
    bus = ServiceBusQueue.from_connection_string(service_bus.connection_string, service_bus.queue)
    try:
        await bus.publish(event)
    finally:
        await bus.close()

    async with (
        ServiceBusClient.from_connection_string(service_bus.connection_string) as client,
        client.get_queue_receiver(service_bus.queue) as receiver,
    ):
        [message] = await receiver.receive_messages(max_message_count=5, max_wait_time=1)
        assert message.message_id == event.id
        assert message.subject == event.type
        assert message.content_type == CLOUDEVENTS_JSON
        assert message.application_properties == {b"traceparent": TRACEPARENT.encode()}
        assert CloudEvent.from_json(b"".join(message.body)) == event
        await receiver.complete_message(message)


async def test_the_wire_counts_earlier_deliveries_as_amqp_does(
    service_bus: ServiceBusTarget,
) -> None:
    """The header's delivery-count, which the SDK hands over unchanged, is 0 on a first
    delivery: what Service Bus sends and the SDK's own live tests expect, and what the adapter
    adds one to. A header left out (proton leaves out one that holds only defaults; the SDK
    then says None) has AMQP's default, 0."""
    async with (
        ServiceBusClient.from_connection_string(service_bus.connection_string) as client,
        client.get_queue_sender(service_bus.queue) as sender,
        client.get_queue_receiver(service_bus.queue) as receiver,
    ):
        await sender.send_messages(ServiceBusMessage("body", message_id="counted"))
        counts = []
        for _ in range(2):
            [message] = await receiver.receive_messages(max_message_count=5, max_wait_time=2)
            counts.append(message.delivery_count or 0)
            await receiver.abandon_message(message)
        assert counts == [0, 1]


async def test_concurrent_publishes_share_one_sender_and_all_arrive(
    service_bus: ServiceBusTarget,
) -> None:
    events = [submission_created(make_submission()) for _ in range(20)]
    bus = ServiceBusQueue.from_connection_string(service_bus.connection_string, service_bus.queue)
    try:
        await asyncio.gather(*(bus.publish(event) for event in events))
        received = await _receive_until(bus, count=len(events), seconds=3)
        assert sorted(d.message_id for d in received) == sorted(e.id for e in events)
    finally:
        await bus.close()


async def test_a_batch_sent_by_the_sdk_is_delivered_as_separate_messages(
    service_bus: ServiceBusTarget,
) -> None:
    async with (
        ServiceBusClient.from_connection_string(service_bus.connection_string) as client,
        client.get_queue_sender(service_bus.queue) as sender,
    ):
        await sender.send_messages(
            [ServiceBusMessage(f"body-{n}", message_id=f"id-{n}") for n in range(3)]
        )
    bus = ServiceBusQueue.from_connection_string(service_bus.connection_string, service_bus.queue)
    try:
        received = await _receive_until(bus, count=3, seconds=3)
        assert [(d.message_id, d.body) for d in received] == [
            (f"id-{n}", f"body-{n}") for n in range(3)
        ]
    finally:
        await bus.close()


async def test_settling_after_the_lock_expired_is_harmless_and_the_message_comes_back(
    service_bus: ServiceBusTarget,
) -> None:
    bus = ServiceBusQueue.from_connection_string(service_bus.connection_string, service_bus.queue)
    try:
        await bus.publish(submission_created(make_submission()))
        [first] = await bus.receive(10, 1)
        await asyncio.sleep(service_bus.lock_seconds + 0.1)
        await bus.complete(first)  # MessageLockLostError is logged, not raised
        [second] = await bus.receive(10, 1)
        assert (second.message_id, second.delivery_count) == (first.message_id, 2)
    finally:
        await bus.close()


async def test_ping_proves_the_queue_can_be_reached(service_bus: ServiceBusTarget) -> None:
    bus = ServiceBusQueue.from_connection_string(service_bus.connection_string, service_bus.queue)
    try:
        await bus.ping()
    finally:
        await bus.close()


async def test_ping_fails_when_nothing_answers() -> None:
    nowhere = (
        f"Endpoint=sb://127.0.0.1:{free_port()};SharedAccessKeyName=x;SharedAccessKey=x;"
        "UseDevelopmentEmulator=true;"
    )
    bus = ServiceBusQueue.from_connection_string(nowhere, retry_total=0)
    try:
        with pytest.raises(ServiceBusError):
            await asyncio.wait_for(bus.ping(), timeout=10)
    finally:
        await bus.close()


def test_bus_servicebus_needs_a_namespace_or_a_connection_string(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BUS", "servicebus")
    with pytest.raises(ValidationError, match="SERVICEBUS_NAMESPACE"):
        CommonSettings()
    monkeypatch.setenv("SERVICEBUS_NAMESPACE", "intake.servicebus.windows.net")
    assert CommonSettings().servicebus_queue == "submissions"


async def test_bootstrap_opens_the_bus_the_settings_name(
    amqp_broker: AmqpTestBroker, tmp_path: Path
) -> None:
    azure = CommonSettings(
        bus="servicebus",
        servicebus_connection_string=amqp_broker.connection_string,
        INTAKE_DATA_DIR=tmp_path,
    )
    local = CommonSettings(INTAKE_DATA_DIR=tmp_path)
    for settings, expected in ((azure, ServiceBusQueue), (local, LocalQueue)):
        publisher, consumer = await open_publisher(settings), await open_consumer(settings)
        assert isinstance(publisher, expected) and isinstance(consumer, expected)
        await publisher.close()
        await consumer.close()


async def test_management_operations_fail_fast_on_the_test_broker(
    amqp_broker: AmqpTestBroker,
) -> None:
    """Peek is a $management request: the broker refuses it instead of letting the SDK hang."""
    async with (
        ServiceBusClient.from_connection_string(
            amqp_broker.connection_string, retry_total=0
        ) as client,
        client.get_queue_receiver("submissions") as receiver,
    ):
        with pytest.raises(ServiceBusError):
            await asyncio.wait_for(receiver.peek_messages(max_message_count=1), timeout=10)


async def test_a_purge_hands_back_what_it_keeps_at_once_not_when_the_lock_expires() -> None:
    """The contract suite's queues lock for a second, about as long as a purge takes; with a
    lock of half a minute, a kept dead letter that were not abandoned would stay out of reach
    (unlistable, unreplayable) that long."""
    with AmqpTestBroker(lock_seconds=30, max_delivery_count=3) as broker:
        bus = ServiceBusQueue.from_connection_string(broker.connection_string, "contract")
        try:
            events = [submission_created(make_submission()) for _ in range(2)]
            await bus.publish_batch(events)
            for delivery in await _receive_until(bus, 2, 5):
                await bus.dead_letter(delivery, "MalformedEvent", "for the test")

            async def first_only(letter: DeadLetter) -> bool:
                return letter.message_id == events[0].id

            [removed] = await bus.purge_dead_letters(first_only)
            assert removed.message_id == events[0].id
            [kept] = await bus.dead_letters()
            assert kept.message_id == events[1].id
            assert await bus.replay_dead_letters() == 1
        finally:
            await bus.close()
