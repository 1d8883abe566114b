"""The outbox: events saved with their submissions, waiting to be published to the bus."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from intake_core.domain.events import CloudEvent


@dataclass(frozen=True)
class OutboxItem:
    event: CloudEvent
    attempts: int


@dataclass(frozen=True)
class PurgedItems:
    """What one :meth:`Outbox.purge_expired` deleted, by kind."""

    outbox_events: int = 0
    idempotency_keys: int = 0


@dataclass(frozen=True)
class OutboxStats:
    """The outbox's unpublished events at one moment: how many, and when the oldest was written.

    The oldest event's age is what the freshness of emails depends on: a backlog that stays
    small but never moves is as bad as a large one.
    """

    backlog: int
    oldest_created_at: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float:
        """How long the oldest unpublished event has waited; 0 when nothing waits."""
        if self.oldest_created_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_created_at).total_seconds())


class Outbox(Protocol):
    """What publishing the saved events needs: intake-api's relay, its fast path and /metrics."""

    async def claim_outbox(
        self, owner: str, limit: int, lease_seconds: float, *, min_age_seconds: float = 0.0
    ) -> list[OutboxItem]:
        """Lease unsent events to ``owner`` so concurrent relays never publish the same one
        at the same time (a lease expires, so a crashed relay's events are picked up again).
        Only events saved at least ``min_age_seconds`` ago are claimed."""
        ...

    async def mark_published(self, event_id: str) -> None: ...

    async def mark_published_batch(self, event_ids: Collection[str]) -> None:
        """:meth:`mark_published` for several events at once (one write where the store can)."""
        ...

    async def release_outbox(self, event_id: str, retry_in_seconds: float) -> None:
        """Publishing failed: make the event claimable again after a backoff."""
        ...

    async def outbox_stats(self) -> OutboxStats:
        """How many events wait to be published, and since when the oldest waits."""
        ...

    async def purge_expired(self, now: datetime) -> PurgedItems:
        """Delete what Cosmos DB's TTL would have deleted by ``now``: the outbox events published
        more than ``PUBLISHED_EVENT_TTL_SECONDS`` before (never an unpublished one: it is
        still owed a publish) and the Idempotency-Keys first used more than
        ``IDEMPOTENCY_KEY_TTL_SECONDS`` before (see :mod:`intake_core.ports.lifetimes`). A store
        that expires them itself deletes nothing here."""
        ...
