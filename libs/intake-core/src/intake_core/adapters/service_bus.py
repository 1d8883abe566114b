"""Azure Service Bus as the event bus (``azure-servicebus`` aio): both ends of one queue.

One ``ServiceBusClient`` per process, from a connection string (emulator, tests) or from a fully
qualified namespace with ``DefaultAzureCredential`` (production; the credential is closed with the
client). Senders and receivers are not coroutine-safe, so one shared sender and one shared
peek-lock receiver are each guarded by a lock; settling goes through the receiver that received
the message, so a settlement waits behind a receive in progress (at most ``wait_seconds``, far
below the queue's lock duration).

Delivery counts: the SDK passes on the AMQP header's ``delivery-count``, which counts the
earlier deliveries (0 the first time); :class:`Delivery` counts this one too, from 1, so a
received message's count is the header's plus one.

Dead letters: ``dead_letters()`` lists by receiving from the dead-letter sub-queue and abandoning
what it got (peek is a ``$management`` operation the local test broker does not speak), and
``purge_dead_letters()`` receives the same way and completes what must go. The listing
reports the header as it came, the deliveries counted before the listing's own receive, which is
no delivery to a consumer; a broker that counts that receive shows one more in the next listing,
which has no other effect there. Replay sends a copy to the queue, then completes the
dead-lettered one. The copy gets a new Service Bus message id, derived from the dead-letter's
sequence number: with duplicate detection on, the original id would be dropped as a duplicate
inside the detection window (and then lost, since the dead-lettered copy is completed). The
original id travels in the ``original-message-id`` application property and is what
:class:`Delivery` reports, so consumers still see the event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from azure.identity.aio import DefaultAzureCredential
from azure.servicebus import (
    ServiceBusMessage,
    ServiceBusReceivedMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver, ServiceBusSender
from azure.servicebus.exceptions import (
    MessageLockLostError,
    MessageSizeExceededError,
    ServiceBusError,
)

from intake_core.domain.events import CloudEvent
from intake_core.ports.queue import DeadLetter, Delivery

logger = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json"
ORIGINAL_MESSAGE_ID = "original-message-id"
DEAD_LETTER_REASON = "DeadLetterReason"
DEAD_LETTER_DESCRIPTION = "DeadLetterErrorDescription"
_NOT_COPIED = {ORIGINAL_MESSAGE_ID, DEAD_LETTER_REASON, DEAD_LETTER_DESCRIPTION}
# Service Bus refuses a zero wait; "no wait" still needs one round trip to the broker.
MIN_WAIT_SECONDS = 0.1
DEAD_LETTER_BATCH = 100
DEAD_LETTER_WAIT_SECONDS = 0.3


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _properties(message: ServiceBusReceivedMessage) -> dict[str, str]:
    raw: Mapping[Any, Any] = message.application_properties or {}
    return {_text(key): _text(value) for key, value in raw.items()}


def _body(message: ServiceBusReceivedMessage) -> str:
    return b"".join(message.body).decode()


def _message(event: CloudEvent) -> ServiceBusMessage:
    properties = {"traceparent": event.traceparent} if event.traceparent else None
    return ServiceBusMessage(
        body=event.to_json(),
        message_id=event.id,
        content_type=CLOUDEVENTS_JSON,
        subject=event.type,
        application_properties=properties,  # type: ignore[arg-type]
    )


def _earlier_deliveries(message: ServiceBusReceivedMessage) -> int:
    """The AMQP header's ``delivery-count``, which the SDK passes on as it came: how many times
    the message was delivered before this delivery (0 the first time, as AMQP 1.0 defines it;
    the SDK says None when the header is left out, which means its default, 0)."""
    return message.delivery_count or 0


def _delivery_number(message: ServiceBusReceivedMessage) -> int:
    """Which delivery this is, counting from 1, as :class:`Delivery` has it (the .NET and Go SDKs
    add the same one to the header)."""
    return _earlier_deliveries(message) + 1


def _original_id(message: ServiceBusReceivedMessage) -> str:
    return _properties(message).get(ORIGINAL_MESSAGE_ID) or str(message.message_id)


def _dead_letter(message: ServiceBusReceivedMessage) -> DeadLetter:
    enqueued = message.enqueued_time_utc or datetime.now(UTC)
    return DeadLetter(
        message_id=_original_id(message),
        body=_body(message),
        reason=message.dead_letter_reason or "",
        description=message.dead_letter_error_description or "",
        # Its deliveries before this receive, which is not one to a consumer.
        delivery_count=_earlier_deliveries(message),
        enqueued_at=enqueued if enqueued.tzinfo else enqueued.replace(tzinfo=UTC),
    )


class ServiceBusQueue:
    """Both ends of one Service Bus queue: publisher for the relay, consumer for the worker."""

    def __init__(
        self,
        client: ServiceBusClient,
        queue: str = "submissions",
        credential: DefaultAzureCredential | None = None,
    ) -> None:
        self._client = client
        self._queue = queue
        self._credential = credential
        self._send_lock = asyncio.Lock()
        self._receive_lock = asyncio.Lock()
        self._sender: ServiceBusSender | None = None
        self._receiver: ServiceBusReceiver | None = None
        self._dead_letter_lock = asyncio.Lock()
        self._dead_letter: ServiceBusReceiver | None = None
        self._locked: dict[str, ServiceBusReceivedMessage] = {}

    @classmethod
    def from_connection_string(
        cls, connection_string: str, queue: str = "submissions", **client_options: Any
    ) -> ServiceBusQueue:
        client = ServiceBusClient.from_connection_string(connection_string, **client_options)
        return cls(client, queue)

    @classmethod
    def from_namespace(
        cls, fully_qualified_namespace: str, queue: str = "submissions", **client_options: Any
    ) -> ServiceBusQueue:
        credential = DefaultAzureCredential()
        client = ServiceBusClient(fully_qualified_namespace, credential, **client_options)
        return cls(client, queue, credential)

    # --- publisher ------------------------------------------------------------------------
    async def publish(self, event: CloudEvent) -> None:
        await self._send(_message(event))

    async def publish_batch(self, events: Sequence[CloudEvent]) -> None:
        """As many events per AMQP transfer as the queue's size limit admits.

        Each batch is accepted or refused whole; when a later one fails, the earlier ones have
        gone, and sending them again is dropped by duplicate detection (same message ids).
        """
        async with self._send_lock:
            sender = self._shared_sender()
            batch = await sender.create_message_batch()
            for event in events:
                message = _message(event)
                try:
                    batch.add_message(message)
                except MessageSizeExceededError:
                    if len(batch) == 0:
                        raise  # a single event larger than the queue admits
                    await sender.send_messages(batch)
                    batch = await sender.create_message_batch()
                    batch.add_message(message)
            if len(batch):
                await sender.send_messages(batch)

    async def _send(self, message: ServiceBusMessage) -> None:
        async with self._send_lock:
            await self._shared_sender().send_messages(message)

    def _shared_sender(self) -> ServiceBusSender:
        if self._sender is None:
            self._sender = self._client.get_queue_sender(self._queue)
        return self._sender

    async def ping(self) -> None:
        """Open (or reuse) the sender link: proves the namespace answers, the credential may send
        to the queue and the queue exists. Raises the SDK's ``ServiceBusError`` otherwise."""
        async with self._send_lock:
            await self._shared_sender().create_message_batch()

    # --- consumer -------------------------------------------------------------------------
    async def receive(self, max_messages: int, wait_seconds: float) -> list[Delivery]:
        async with self._receive_lock:
            if self._receiver is None:
                self._receiver = await self._open_receiver(sub_queue=None)
            messages = await self._receiver.receive_messages(
                max_message_count=max_messages,
                max_wait_time=max(wait_seconds, MIN_WAIT_SECONDS),
            )
        deliveries = []
        for message in messages:
            token = str(message.lock_token)
            self._locked[token] = message
            properties = _properties(message)
            properties.pop(ORIGINAL_MESSAGE_ID, None)
            deliveries.append(
                Delivery(
                    message_id=_original_id(message),
                    body=_body(message),
                    delivery_count=_delivery_number(message),
                    lock_token=token,
                    properties=properties,
                )
            )
        return deliveries

    async def complete(self, delivery: Delivery) -> None:
        await self._settle(delivery, lambda receiver, m: receiver.complete_message(m))

    async def abandon(self, delivery: Delivery) -> None:
        await self._settle(delivery, lambda receiver, m: receiver.abandon_message(m))

    async def dead_letter(self, delivery: Delivery, reason: str, description: str) -> None:
        await self._settle(
            delivery,
            lambda receiver, m: receiver.dead_letter_message(
                m, reason=reason, error_description=description[:1024]
            ),
        )

    async def _settle(
        self,
        delivery: Delivery,
        settle: Callable[[ServiceBusReceiver, ServiceBusReceivedMessage], Awaitable[None]],
    ) -> None:
        message = self._locked.pop(delivery.lock_token, None)
        if message is None or self._receiver is None:
            return  # settled already, as the embedded queue does for an unknown lock token
        async with self._receive_lock:
            try:
                await settle(self._receiver, message)
            except MessageLockLostError:
                logger.warning("lock on message %s expired; it will be delivered again", message)

    # --- dead-letter queue ----------------------------------------------------------------
    async def dead_letters(self) -> list[DeadLetter]:
        """Every message in the dead-letter queue; each stays there."""
        held: dict[int | None, ServiceBusReceivedMessage] = {}
        async with self._dead_letter_lock:
            receiver = await self._dead_letter_receiver()
            # A lock that expires while listing puts its message back in reach: stop at a repeat.
            while batch := await receiver.receive_messages(
                DEAD_LETTER_BATCH, max_wait_time=DEAD_LETTER_WAIT_SECONDS
            ):
                fresh = [m for m in batch if m.sequence_number not in held]
                held.update((m.sequence_number, m) for m in fresh)
                if not fresh:
                    break
            for message in held.values():
                with contextlib.suppress(MessageLockLostError):  # back in the DLQ anyway
                    await receiver.abandon_message(message)
        return [_dead_letter(message) for message in held.values()]

    async def replay_dead_letters(self) -> int:
        """Send each dead-lettered message back to the queue, then remove it from the DLQ."""
        replayed = 0
        async with self._dead_letter_lock:
            receiver = await self._dead_letter_receiver()
            while batch := await receiver.receive_messages(
                DEAD_LETTER_BATCH, max_wait_time=DEAD_LETTER_WAIT_SECONDS
            ):
                for message in batch:
                    await self._send(self._replay_copy(message))
                    await receiver.complete_message(message)
                    replayed += 1
        return replayed

    async def purge_dead_letters(
        self, doomed: Callable[[DeadLetter], Awaitable[bool]]
    ) -> list[DeadLetter]:
        """Receive each dead letter once; complete (remove) those ``doomed`` picks as it picks
        them, and abandon the others together when the pass ends, so they are back in the DLQ at
        once rather than when their locks expire. Held until then, a kept one is not received
        again in the same pass; one that comes back all the same (its lock expired: a pass longer
        than the queue's lock duration) ends the pass, and the next run sees the rest."""
        removed: list[DeadLetter] = []
        held: list[ServiceBusReceivedMessage] = []
        seen: set[int | None] = set()
        async with self._dead_letter_lock:
            receiver = await self._dead_letter_receiver()
            try:
                while batch := await receiver.receive_messages(
                    DEAD_LETTER_BATCH, max_wait_time=DEAD_LETTER_WAIT_SECONDS
                ):
                    held += batch
                    fresh = [m for m in batch if m.sequence_number not in seen]
                    seen.update(m.sequence_number for m in batch)
                    if not fresh:
                        break
                    for message in fresh:
                        letter = _dead_letter(message)
                        if not await doomed(letter):
                            continue
                        held.remove(message)
                        try:
                            await receiver.complete_message(message)
                        except MessageLockLostError:
                            continue  # back in the DLQ: the next run removes it
                        removed.append(letter)
            finally:
                for message in held:
                    # One that cannot be abandoned is back when its lock expires.
                    with contextlib.suppress(ServiceBusError):
                        await receiver.abandon_message(message)
        return removed

    @staticmethod
    def _replay_copy(message: ServiceBusReceivedMessage) -> ServiceBusMessage:
        original = _original_id(message)
        properties: dict[str | bytes, Any] = {
            key: value for key, value in _properties(message).items() if key not in _NOT_COPIED
        }
        properties[ORIGINAL_MESSAGE_ID] = original
        return ServiceBusMessage(
            body=_body(message),
            message_id=f"{original}:replay:{message.sequence_number}",
            content_type=message.content_type,
            subject=message.subject,
            application_properties=properties,
        )

    async def _dead_letter_receiver(self) -> ServiceBusReceiver:
        if self._dead_letter is None:
            self._dead_letter = await self._open_receiver(sub_queue=ServiceBusSubQueue.DEAD_LETTER)
        return self._dead_letter

    async def _open_receiver(self, sub_queue: ServiceBusSubQueue | None) -> ServiceBusReceiver:
        receiver = self._client.get_queue_receiver(
            self._queue, sub_queue=sub_queue, receive_mode=ServiceBusReceiveMode.PEEK_LOCK
        )
        # Open the link now: a receive's wait would otherwise also cover opening it.
        return await receiver.__aenter__()

    # --- lifecycle ------------------------------------------------------------------------
    async def close(self) -> None:
        # Each handler's close waits for its keep-alive task (up to a second): close them together.
        handlers = [
            handler
            for handler in (self._sender, self._receiver, self._dead_letter)
            if handler is not None
        ]
        self._sender = self._receiver = self._dead_letter = None
        self._locked.clear()
        results = await asyncio.gather(
            *(handler.close() for handler in handlers), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                logger.warning("closing a Service Bus link failed: %r", result)
        await self._client.close()
        if self._credential is not None:
            await self._credential.close()
