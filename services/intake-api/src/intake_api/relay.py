"""The outbox relay: the guarantee that every saved submission's event reaches the bus.

It leases a batch of unpublished events (the store's claim is atomic, so relays in several
replicas never hold the same event at once), publishes them together and marks them published;
if that fails, it publishes each alone. A failed publish goes back to the outbox with an
exponential backoff and jitter, based on how often the event was tried; the relay never gives
up on an event, so a bus outage delays emails but loses none. Delivery is at least once: the
event id is the message id, so duplicates are dropped by the bus and by the notifier.

Alongside, it purges what Cosmos DB's TTL would have deleted (events published more than a week
ago, idempotency keys first used more than a week ago) from a store that keeps them (the embedded
one; Cosmos DB expires them itself): soon after start, then hourly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry.trace import SpanKind

from intake_api.metrics import ApiMetrics
from intake_core.ports.outbox import Outbox, OutboxItem, PurgedItems
from intake_core.ports.queue import EventPublisher
from intake_core.telemetry import span_from

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
PURGE_INTERVAL_SECONDS = 3600.0
# A purge soon after start too, so a process restarted more often than hourly still purges.
FIRST_PURGE_AFTER_SECONDS = 60.0


def relay_owner() -> str:
    """Unique per process and per start, so a restarted pod never reuses an old lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def backoff_seconds(
    attempts: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    random_fraction: Callable[[], float] = random.random,
) -> float:
    """Delay before the next try after ``attempts`` tries: half fixed, half random.

    The fixed half keeps the growth exponential; the random half spreads relays in several
    replicas apart so they do not all hit a recovering bus in the same instant.
    """
    # The exponent is bounded so an event retried for weeks does not overflow the float.
    ceiling = min(cap, base * 2.0 ** min(max(0, attempts - 1), 64))
    return ceiling / 2 + random_fraction() * ceiling / 2


class OutboxRelay:
    def __init__(
        self,
        store: Outbox,
        publisher: EventPublisher,
        owner: str,
        batch_size: int = 50,
        lease_seconds: float = 30.0,
        poll_interval: float = 1.0,
        *,
        publish_timeout: float = 10.0,
        min_age_seconds: float = 0.0,
        backoff: Callable[[int], float] = backoff_seconds,
        metrics: ApiMetrics | None = None,
        first_purge_after: float = FIRST_PURGE_AFTER_SECONDS,
        purge_interval: float = PURGE_INTERVAL_SECONDS,
    ) -> None:
        """``min_age_seconds``: events younger than this are left alone, to the fast path that
        publishes each one right after its commit; the relay takes only what it missed."""
        self._store = store
        self._publisher = publisher
        self._owner = owner
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._min_age = min_age_seconds
        self._backoff = backoff
        self._metrics = metrics
        self._first_purge_after = first_purge_after
        self._purge_interval = purge_interval

    @property
    def owner(self) -> str:
        return self._owner

    async def run_once(self) -> int:
        """Publish one batch; returns how many events were claimed."""
        items = await self._store.claim_outbox(
            self._owner, self._batch_size, self._lease_seconds, min_age_seconds=self._min_age
        )
        if len(items) > 1 and await self._relay_together(items):
            return len(items)
        # Alone, or after the batch failed: each event on its own, so one the bus refuses (or
        # a bus that is down) backs off by its own count of attempts and holds up no other.
        for item in items:
            await self._relay(item)
        return len(items)

    async def _relay_together(self, items: list[OutboxItem]) -> bool:
        """The claimed batch in one publish and one write; False, with nothing marked, if the
        publish failed."""
        try:
            await self._publish(items)
        except Exception as error:
            logger.warning(
                "publishing %d events together failed (%s); trying each alone",
                len(items),
                type(error).__name__,
            )
            return False
        await self._store.mark_published_batch([item.event.id for item in items])
        if self._metrics is not None:
            self._metrics.relay_published.labels("relay").inc(len(items))
        return True

    async def _relay(self, item: OutboxItem) -> None:
        event_id = item.event.id
        try:
            await self._publish([item])
        except Exception as error:
            delay = self._backoff(item.attempts)
            logger.warning(
                "publishing event %s failed on attempt %d (%s); retrying in %.1f s",
                event_id,
                item.attempts,
                type(error).__name__,
                delay,
            )
            if self._metrics is not None:
                self._metrics.relay_failures.labels("relay").inc()
            await self._store.release_outbox(event_id, delay)
            return
        await self._store.mark_published(event_id)
        if self._metrics is not None:
            self._metrics.relay_published.labels("relay").inc()

    async def _publish(self, items: list[OutboxItem]) -> None:
        """One publish call for ``items``; each event gets its own span, in its request's
        trace. Raises what the publish raised."""
        with contextlib.ExitStack() as spans:
            for item in items:
                span = spans.enter_context(
                    span_from("outbox.publish", item.event.traceparent, SpanKind.PRODUCER)
                )
                span.set_attribute("messaging.message.id", item.event.id)
                span.set_attribute("intake.publish.attempt", item.attempts)
                if len(items) > 1:
                    span.set_attribute("messaging.batch.message_count", len(items))
            started = time.perf_counter()
            async with asyncio.timeout(self._publish_timeout):
                if len(items) == 1:
                    await self._publisher.publish(items[0].event)
                else:
                    await self._publisher.publish_batch([item.event for item in items])
        if self._metrics is not None:
            elapsed = time.perf_counter() - started
            self._metrics.relay_publish_duration.labels("relay").observe(elapsed)

    async def purge_once(self) -> PurgedItems:
        """Delete what Cosmos DB's TTL would have deleted by now; returns how much went."""
        purged = await self._store.purge_expired(datetime.now(UTC))
        if purged.outbox_events or purged.idempotency_keys:
            logger.info(
                "purged %d outbox events published over a week ago"
                " and %d idempotency keys first used over a week ago",
                purged.outbox_events,
                purged.idempotency_keys,
            )
        if self._metrics is not None:
            self._metrics.store_purged.labels("outbox_event").inc(purged.outbox_events)
            self._metrics.store_purged.labels("idempotency_key").inc(purged.idempotency_keys)
        return purged

    async def run_forever(self) -> None:
        """Publish and purge until cancelled."""
        logger.info("outbox relay %s started", self._owner)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._publish_forever(), name="outbox-publish")
            tasks.create_task(self._purge_forever(), name="store-purge")

    async def _purge_forever(self) -> None:
        await asyncio.sleep(self._first_purge_after)
        while True:
            try:
                await self.purge_once()
            except Exception as error:
                # The store is down or busy: the rows wait for the next round.
                logger.warning("purging expired rows failed (%s)", type(error).__name__)
            await asyncio.sleep(self._purge_interval)

    async def _publish_forever(self) -> None:
        """Poll; a full batch means more may wait, so go again at once."""
        while True:
            try:
                claimed = await self.run_once()
            except Exception as error:
                # The store is down or flaky: leases expire, so nothing is lost by waiting.
                logger.warning("outbox relay round failed (%s)", type(error).__name__)
                claimed = 0
            if claimed < self._batch_size:
                await asyncio.sleep(self._poll_interval)
