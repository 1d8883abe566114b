"""The event bus contract: peek-lock delivery, redelivery, dead-lettering, duplicate detection,
and the dead-letter queue's list, replay and purge.

Runs over the local queue, the Service Bus adapter against the local AMQP test broker, and the
Service Bus adapter against the official emulator where Docker runs it (see conftest.py).
``arrival_seconds`` is how long a receive waits for a message the test knows is ready: nothing
in process, a round trip or two for the emulator.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.dead_letter_purge import (
    PURGE_ACTOR,
    PurgeReason,
    purge_dead_letters,
)
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.events import CloudEvent, submission_created
from intake_core.ports.mail import OutgoingEmail
from intake_core.ports.queue import DeadLetter
from intake_notify.settings import NotifySettings
from intake_notify.worker import NotifyWorker
from support import make_submission, stored_event

from .conftest import MAX_DELIVERY_COUNT


def an_event() -> CloudEvent:
    return submission_created(
        make_submission(), traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    )


async def test_published_event_is_received_with_its_id_and_trace_context(
    bus: LocalQueue | ServiceBusQueue,
) -> None:
    event = an_event()
    await bus.publish(event)
    [delivery] = await bus.receive(max_messages=10, wait_seconds=1)
    assert delivery.message_id == event.id
    assert CloudEvent.from_json(delivery.body) == event
    assert delivery.properties["traceparent"] == event.traceparent
    assert delivery.delivery_count == 1
    await bus.complete(delivery)
    assert await bus.receive(max_messages=10, wait_seconds=0) == []


async def test_a_locked_message_is_invisible_then_redelivered_when_the_lock_expires(
    bus: LocalQueue | ServiceBusQueue,
    lock_seconds: float,
    arrival_seconds: float,
) -> None:
    await bus.publish(an_event())
    [first] = await bus.receive(10, arrival_seconds)
    assert await bus.receive(10, 0) == []
    await asyncio.sleep(lock_seconds + 0.1)
    [second] = await bus.receive(10, arrival_seconds)
    assert second.message_id == first.message_id
    assert second.delivery_count == 2


async def test_abandon_redelivers_at_once(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    await bus.publish(an_event())
    [first] = await bus.receive(10, arrival_seconds)
    await bus.abandon(first)
    [second] = await bus.receive(10, arrival_seconds)
    assert second.delivery_count == 2


async def test_duplicate_message_ids_are_dropped(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    event = an_event()
    await bus.publish(event)
    await bus.publish(event)
    assert len(await bus.receive(10, arrival_seconds)) == 1


async def test_a_batch_arrives_as_one_message_per_event(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    events = [an_event() for _ in range(5)]
    await bus.publish_batch(events)
    await bus.publish_batch(events[:2])  # repeated ids: dropped, as when a retry overlaps
    deliveries = await bus.receive(10, arrival_seconds)
    while len(deliveries) < len(events) and (more := await bus.receive(10, arrival_seconds)):
        deliveries += more
    by_id = {delivery.message_id: delivery for delivery in deliveries}
    assert len(deliveries) == len(by_id) == len(events)
    assert [CloudEvent.from_json(by_id[event.id].body) for event in events] == events
    assert all(d.properties["traceparent"] == events[0].traceparent for d in deliveries)


async def test_dead_letter_and_replay(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    await bus.publish(an_event())
    [delivery] = await bus.receive(10, arrival_seconds)
    await bus.dead_letter(delivery, "MalformedEvent", "not a CloudEvent")
    assert await bus.receive(10, 0) == []
    [dead] = await bus.dead_letters()
    assert (dead.message_id, dead.reason) == (delivery.message_id, "MalformedEvent")
    assert await bus.replay_dead_letters() == 1
    [again] = await bus.receive(10, arrival_seconds)
    assert again.message_id == delivery.message_id
    assert again.delivery_count == 1


async def test_too_many_deliveries_move_the_message_to_the_dead_letter_queue(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    await bus.publish(an_event())
    for _ in range(3):
        [delivery] = await bus.receive(10, arrival_seconds)
        await bus.abandon(delivery)
    assert await bus.receive(10, 0) == []
    [dead] = await bus.dead_letters()
    assert dead.reason == "MaxDeliveryCountExceeded"


async def test_each_delivery_says_which_one_it_is_counting_from_one(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    """Service Bus's AMQP header counts the earlier deliveries (0 the first time); the port
    counts this one too, as the local queue does."""
    await bus.publish(an_event())
    counts = []
    for _ in range(MAX_DELIVERY_COUNT):
        [delivery] = await bus.receive(10, arrival_seconds)
        counts.append(delivery.delivery_count)
        await bus.abandon(delivery)
    assert counts == list(range(1, MAX_DELIVERY_COUNT + 1))


class DownMailer:
    """Every send fails, as while the mail server is down."""

    async def send(self, email: OutgoingEmail) -> None:
        raise ConnectionError("mail server unavailable")


async def test_the_worker_dead_letters_the_last_allowed_delivery_itself_and_counts_it(
    bus: LocalQueue | ServiceBusQueue, sqlite_store: SqliteSubmissionStore, tmp_path: Path
) -> None:
    """The worker tells the last delivery the queue allows by its count: had the count been one
    short, the queue would dead-letter the message after it and the worker never count it."""
    settings = NotifySettings(
        INTAKE_DATA_DIR=tmp_path, worker_concurrency=1, queue_max_deliveries=MAX_DELIVERY_COUNT
    )
    worker = NotifyWorker(bus, sqlite_store, DownMailer(), settings)
    await bus.publish(await stored_event(sqlite_store))
    running = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(30):
            while not (letters := await bus.dead_letters()):
                await asyncio.sleep(0.1)
    finally:
        worker.stop()
        await asyncio.wait_for(running, timeout=10)
    [letter] = letters
    assert (letter.reason, letter.description) == (
        "MaxDeliveryCountExceeded",
        "last error: ConnectionError",  # the worker's words; the queue's would name no error
    )
    outcomes = {
        sample.labels["outcome"]: sample.value
        for metric in worker.metrics.registry.collect()
        for sample in metric.samples
        if sample.name == "notify_messages_total"
    }
    assert outcomes["retried"] == MAX_DELIVERY_COUNT - 1
    assert outcomes["dead_lettered"] == 1


async def test_receive_waits_for_a_message(bus: LocalQueue | ServiceBusQueue) -> None:
    async def publish_later() -> None:
        await asyncio.sleep(0.2)
        await bus.publish(an_event())

    publisher = asyncio.create_task(publish_later())
    deliveries = await bus.receive(10, wait_seconds=2)
    await publisher
    assert len(deliveries) == 1


# -- the dead-letter queue's purge ------------------------------------------------------------


async def dead_lettered(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float, *bodies: tuple[str, str]
) -> None:
    """Send each (message id, body) and dead-letter it, as the worker does a poison message."""
    for message_id, body in bodies:
        if isinstance(bus, LocalQueue):
            await bus.send(message_id, body, {})
        else:  # the adapter publishes CloudEvents only: through its sender, as any producer
            from azure.servicebus import ServiceBusMessage

            await bus._send(ServiceBusMessage(body, message_id=message_id))
    deliveries = []
    while len(deliveries) < len(bodies) and (more := await bus.receive(10, arrival_seconds)):
        deliveries += more
    assert len(deliveries) == len(bodies)
    for delivery in deliveries:
        await bus.dead_letter(delivery, "MalformedEvent", "for the test")


async def test_purge_removes_what_it_is_told_to_and_the_rest_is_replayable_at_once(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    """Kept dead letters are unlocked when the purge returns, not when a lock expires: listed
    (a listing receives them, which a held lock would stop) and replayed straight away."""
    events = [an_event() for _ in range(3)]
    await dead_lettered(bus, arrival_seconds, *((e.id, e.to_json()) for e in events))
    doomed = {events[0].id, events[2].id}
    asked: list[str] = []

    async def pick(letter: DeadLetter) -> bool:
        asked.append(letter.message_id)
        return letter.message_id in doomed

    removed = await bus.purge_dead_letters(pick)

    assert sorted(asked) == sorted(e.id for e in events)  # each asked about once
    assert {letter.message_id for letter in removed} == doomed
    assert [letter.message_id for letter in await bus.dead_letters()] == [events[1].id]
    assert await bus.replay_dead_letters() == 1
    [again] = await bus.receive(10, arrival_seconds)
    assert again.message_id == events[1].id
    assert await bus.purge_dead_letters(pick) == []  # nothing left to ask about


async def test_a_purge_that_fails_leaves_what_it_had_not_removed_in_place(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    """The store goes down halfway through: the dead letter being decided and those not yet
    reached stay, unlocked, for the next run."""
    events = [an_event() for _ in range(3)]
    await dead_lettered(bus, arrival_seconds, *((e.id, e.to_json()) for e in events))
    asked = 0

    async def failing(letter: DeadLetter) -> bool:
        nonlocal asked
        asked += 1
        if asked == 2:
            raise ConnectionError("store unavailable")
        return False

    with pytest.raises(ConnectionError):
        await bus.purge_dead_letters(failing)
    assert sorted(letter.message_id for letter in await bus.dead_letters()) == sorted(
        e.id for e in events
    )


async def test_a_dead_letter_says_when_the_queue_took_it(
    bus: LocalQueue | ServiceBusQueue, arrival_seconds: float
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await dead_lettered(bus, arrival_seconds, ("poison", "{{{ not a cloud event"))
    [letter] = await bus.dead_letters()
    assert before <= letter.enqueued_at <= datetime.now(UTC) + timedelta(seconds=5)


async def test_dlq_purge_removes_the_dead_letters_of_erased_and_old_records(
    bus: LocalQueue | ServiceBusQueue, sqlite_store: SqliteSubmissionStore, arrival_seconds: float
) -> None:
    """What ``intake dlq purge`` and the retention job run: a dead letter goes when its record is
    erased, or its event is older than the limit (30 days); each removal is audited in the
    record's trail. One whose record is not in the store (a submission a restore lost) is kept
    until the limit, like a live one. A dry run says the same and removes and audits nothing."""
    now = datetime.now(UTC)
    live = await stored_event(sqlite_store)
    erased = await stored_event(sqlite_store)
    await sqlite_store.erase(
        erased.subject, AuditEntry("submission.erase", "dpo@example.com", now, erased.subject)
    )
    missing = an_event()  # its record is not in this store (made after a restore point)
    old = make_submission(submitted_at=now - timedelta(days=31))
    old_event = submission_created(old)
    await sqlite_store.save_new(
        old, old_event, AuditEntry("submission.created", "client", old.submitted_at, old.client_id)
    )
    events = [live, erased, missing, old_event]
    await dead_lettered(
        bus,
        arrival_seconds,
        *((e.id, e.to_json()) for e in events),
        ("poison", "{{{ not a cloud event"),
    )
    expected = {
        erased.id: (erased.subject, PurgeReason.ERASED),
        old_event.id: (old.client_id, PurgeReason.EXPIRED),
    }

    dry = await purge_dead_letters(bus, sqlite_store, actor=PURGE_ACTOR, dry_run=True)
    assert {p.event_id: (p.client_id, p.reason) for p in dry.purged} == expected
    assert (dry.examined, dry.kept) == (5, 3)
    assert len(await bus.dead_letters()) == 5
    assert AuditAction.DEAD_LETTER_PURGED not in [
        e.action for e in await sqlite_store.audit_trail(old.client_id)
    ]

    report = await purge_dead_letters(bus, sqlite_store, actor=PURGE_ACTOR)
    assert {p.event_id: (p.client_id, p.reason) for p in report.purged} == expected
    assert sorted(letter.message_id for letter in await bus.dead_letters()) == sorted(
        ["poison", live.id, missing.id]
    )
    for event_id, (client_id, reason) in expected.items():
        [entry] = [
            e
            for e in await sqlite_store.audit_trail(client_id)
            if e.action == AuditAction.DEAD_LETTER_PURGED
        ]
        assert entry.actor == PURGE_ACTOR
        assert entry.details["reason"] == reason and entry.details["eventId"] == event_id
    [expired] = [
        e
        for e in await sqlite_store.audit_trail(old.client_id)
        if e.action == AuditAction.DEAD_LETTER_PURGED
    ]
    assert expired.details["maxAgeDays"] == "30"
    assert (await sqlite_store.verify_audit_chain()).intact

    # A month on, the live record's, the missing record's and the poison message are too old.
    later = await purge_dead_letters(
        bus, sqlite_store, actor=PURGE_ACTOR, clock=lambda: now + timedelta(days=31)
    )
    assert {(p.event_id, p.reason) for p in later.purged} == {
        (live.id, PurgeReason.EXPIRED),
        (missing.id, PurgeReason.EXPIRED),
        ("poison", PurgeReason.EXPIRED),
    }
    assert await bus.dead_letters() == []
