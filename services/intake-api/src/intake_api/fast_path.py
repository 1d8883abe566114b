"""The fast path: publishing new submissions' events right after their commit, in the
background, in batches. It only saves the outbox relay a round: when a publish fails, the relay
publishes the event later, so the client's answer never waits for the bus."""

from __future__ import annotations

import asyncio
import logging
import time

from intake_api.metrics import ApiMetrics
from intake_core.breakers import Breaker
from intake_core.domain.events import CloudEvent
from intake_core.ports.outbox import Outbox
from intake_core.ports.queue import EventPublisher

logger = logging.getLogger(__name__)

FAST_PATH = "fast"  # the ``path`` label of the publish metrics; the relay's is "relay"


def bus_breaker(cooldown_seconds: float = 30.0) -> Breaker:
    """After a failed fast-path publish, skip the fast path for a while: one failure opens it.

    A hanging bus would otherwise hold a publish per submission until its timeout; meanwhile
    the relay keeps trying on its own schedule, so skipping loses nothing. After the cool-down
    the next publish is the trial that closes it again, or opens it for another cool-down.
    """
    return Breaker("bus", failures=1, reset_seconds=cooldown_seconds)


class FastPath:
    """Publishes new events right after their commit, in the background, in batches.

    Events committed while a batch is on its way wait for the next one, so under load one
    publish and one store write carry many events (one AMQP transfer to Service Bus, one
    transaction on the embedded queue), while at rest each event still goes out at once. At
    most ``max_pending`` events wait or travel; past that (a slow bus under load) new events
    are simply left to the relay, so they cannot pile up without bound. (An app has one store
    and one publisher: a sender uses those of the event that started it.)
    """

    def __init__(
        self,
        breaker: Breaker | None = None,
        max_pending: int = 1000,
        max_batch: int = 250,
        metrics: ApiMetrics | None = None,
    ) -> None:
        """``max_pending``: events waiting at most; past it an event is left to the relay.
        ``max_batch``: events published (and marked published) together. Batches must be large
        enough that one publish keeps up with the submissions made meanwhile under load (see
        docs/performance.md, session 7); Service Bus takes a batch in as many AMQP transfers as
        its message size limit needs."""
        self.breaker = breaker or bus_breaker()
        self.metrics = metrics
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._waiting: list[CloudEvent] = []
        self._travelling = 0
        self._sender: asyncio.Task[None] | None = None

    def publish_soon(
        self,
        event: CloudEvent,
        store: Outbox,
        publisher: EventPublisher,
        timeout_seconds: float,
    ) -> None:
        if len(self._waiting) + self._travelling >= self._max_pending or not self.breaker.admits():
            return
        self._waiting.append(event)
        if self._sender is None:
            sending = self._send_waiting(store, publisher, timeout_seconds)
            self._sender = asyncio.create_task(sending)

    async def _send_waiting(
        self, store: Outbox, publisher: EventPublisher, timeout_seconds: float
    ) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                self._travelling = len(batch)
                if not await self._publish(batch, store, publisher, timeout_seconds):
                    self._waiting.clear()  # the breaker is open: the relay publishes these too
                self._travelling = 0
        finally:
            # No await since the loop found nothing waiting: the next event starts a new sender.
            self._sender = None

    async def _publish(
        self,
        events: list[CloudEvent],
        store: Outbox,
        publisher: EventPublisher,
        timeout_seconds: float,
    ) -> bool:
        """Best effort: any failure is logged and left to the relay, which is the guarantee."""
        started = time.perf_counter()
        try:
            with self.breaker.guarding():
                async with asyncio.timeout(timeout_seconds):
                    await publisher.publish_batch(events)
        except Exception as error:
            logger.warning(
                "fast-path publish of %d event(s) failed (%s); the relay will retry",
                len(events),
                type(error).__name__,
            )
            if self.metrics is not None:
                self.metrics.relay_failures.labels(FAST_PATH).inc(len(events))
            return False
        if self.metrics is not None:
            elapsed = time.perf_counter() - started
            self.metrics.relay_publish_duration.labels(FAST_PATH).observe(elapsed)
            self.metrics.relay_published.labels(FAST_PATH).inc(len(events))
        try:
            await store.mark_published_batch([event.id for event in events])
        except Exception as error:
            # Published but not marked: the relay publishes them again; the bus drops repeats.
            logger.warning(
                "could not mark %d event(s) published (%s)", len(events), type(error).__name__
            )
        return True

    async def drain(self, timeout_seconds: float = 10.0) -> None:
        """Let the waiting events go out (graceful shutdown); the relay covers the rest."""
        if self._sender is not None:
            await asyncio.wait({self._sender}, timeout=timeout_seconds)
