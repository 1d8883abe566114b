"""Erasures the platform makes by itself, with no staff request: the retention job's, and those
made again on a store restored to an earlier point (:mod:`intake_core.restore`).

Each does what admin-api's erasure does: the store's transaction (tombstone, outbox, idempotency
key, search text, audit entry), then the record's messages leave the embedded queue and its
copies leave admin-api's read cache (with the cached figures, which counted it as it was). What
the engine kept on disk is rewritten once, after the last erasure of a run, not per record.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake_core.ports import (
    CACHED_FIGURES_GENERATION_KEY,
    AuditEntry,
    ReadCache,
    StaffSubmissionStore,
    SubjectQueue,
    cached_record_keys,
)


@dataclass
class SystemErasure:
    """One run's erasures, over the adapters it was given (no queue: Service Bus, which cannot
    purge by subject; no cache: nothing of admin-api's to reach)."""

    store: StaffSubmissionStore
    queue: SubjectQueue | None = None
    cache: ReadCache | None = None
    erased: int = 0
    queue_messages_purged: int = 0
    _copies_dropped: bool = False

    async def erase(self, entry: AuditEntry) -> None:
        """Erase ``entry.client_id`` with ``entry`` as its audit entry, and drop its copies."""
        assert entry.client_id is not None, "an erasure is of one record"
        # The store first: once the outbox event is gone no relay can re-queue a message we purge.
        await self.store.erase(entry.client_id, entry)
        self.erased += 1
        await self.drop_copies(entry.client_id)

    async def drop_copies(self, client_id: str) -> None:
        """The record's messages in the embedded queue and its copies in the read cache. Called
        alone for a record already erased, it finishes an erasure that stopped after the store's
        transaction."""
        if self.queue is not None:
            self.queue_messages_purged += await self.queue.purge_subject(client_id)
        if self.cache is not None:
            await self.cache.delete(*cached_record_keys(client_id), CACHED_FIGURES_GENERATION_KEY)
        self._copies_dropped = True

    async def finish(self) -> None:
        """Rewrite what the engine kept of the data erased (or dropped) in this run."""
        if self._copies_dropped:
            await self.store.forget_erased_remnants()
