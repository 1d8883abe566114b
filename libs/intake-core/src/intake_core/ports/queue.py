"""The event bus: publishing events, consuming them, and the dead-letter queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from intake_core.domain.events import CloudEvent


@dataclass(frozen=True)
class Delivery:
    """One delivery of a message; ``lock_token`` settles it.

    ``delivery_count`` says which delivery this is, counting from 1: 1 the first time, and one
    more after each abandon or expired lock. Compared with the queue's max delivery count, it
    tells the consumer when a delivery is the last one the queue allows.
    """

    message_id: str
    body: str
    delivery_count: int
    lock_token: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    """A message in the dead-letter queue; ``delivery_count`` is how many times it was
    delivered before it was listed, ``enqueued_at`` when the queue took it (a Service Bus
    replay sends a copy, which the queue takes anew; the embedded queue keeps the first time)."""

    message_id: str
    body: str
    reason: str
    description: str
    delivery_count: int
    enqueued_at: datetime


class DeadLetterQueue(Protocol):
    """The dead-letter queue of the notifier's queue, for operators and the retention job."""

    async def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter; each stays where it is."""
        ...

    async def replay_dead_letters(self) -> int:
        """Move every dead letter back to the queue, with a fresh delivery count."""
        ...

    async def purge_dead_letters(
        self, doomed: Callable[[DeadLetter], Awaitable[bool]]
    ) -> list[DeadLetter]:
        """Ask ``doomed`` about each dead letter once and remove each it answers True for, at
        once; returns the ones removed. Every other one is back in the dead-letter queue, as it
        was (listable, replayable), when this returns or raises (``doomed`` raising stops the
        pass; those removed before stay removed). One replayed meanwhile is not removed."""
        ...

    async def close(self) -> None: ...


class SubjectQueue(Protocol):
    """A queue that can drop every message about one data subject (the CloudEvent ``subject``,
    a Client ID), for an erasure. The embedded queue can; Service Bus cannot delete messages it
    has not delivered, so there the notifier skips events of erased records instead."""

    async def purge_subject(self, subject: str) -> int:
        """Delete the subject's messages, dead letters included; returns how many went."""
        ...


class EventPublisher(Protocol):
    async def publish(self, event: CloudEvent) -> None:
        """Send ``event``; its id is the message id, so the bus can drop duplicates."""
        ...

    async def publish_batch(self, events: Sequence[CloudEvent]) -> None:
        """Send ``events`` in as few round trips as the bus allows. When this raises, some may
        have gone: sending them again is safe, since the bus drops repeated ids."""
        ...

    async def ping(self) -> None:
        """Raise when the bus cannot take messages (readiness)."""
        ...

    async def close(self) -> None: ...


class EventConsumer(Protocol):
    async def receive(self, max_messages: int, wait_seconds: float) -> list[Delivery]: ...

    async def complete(self, delivery: Delivery) -> None: ...

    async def abandon(self, delivery: Delivery) -> None: ...

    async def dead_letter(self, delivery: Delivery, reason: str, description: str) -> None: ...

    async def close(self) -> None: ...
