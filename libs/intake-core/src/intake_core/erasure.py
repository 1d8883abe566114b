"""Erasure: a record's personal data goes from everywhere the platform keeps it, a tombstone
stays, the erasure is audited. The one workflow behind admin-api's erase endpoint, the retention
job and the erasures made again on a restored store (:mod:`intake_core.restore`): each caller
builds the audit entry, and says what it does when a copy could not be dropped.

In order: the store's transaction (tombstone, outbox, idempotency key, search text, audit
entry); then the record's copy leaves admin-api's read cache, with the cached figures (which
counted it as it was), and its messages leave the embedded queue; last, once for all the
erasures made together, the store rewrites what its engine kept of them on disk. Every step
after the transaction can be done again harmlessly, so erasing again (or
:meth:`Erasure.drop_copies` alone) finishes an erasure that stopped halfway.

The store's transaction is the commitment: once it is in, the erasure happened. A read cache
that cannot be reached then does not stop the steps after it: the record is listed in
:attr:`Erasure.copies_left`, and the caller reports it (admin-api answers 503, so staff send
the erasure again; the retention job and a reapply say so in their output and exit 1). Such a
copy lives no longer than its TTL, and the retention job drops the copies of every recent
erasure again on each run. The figures hold no personal data: a copy of them the cache could not
drop lives out its own short TTL, only logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from intake_core.domain.audit import AuditEntry
from intake_core.ports.cache import CacheUnavailable, ReadCache
from intake_core.ports.queue import SubjectQueue
from intake_core.ports.staff import StaffSubmissionStore, StoredRecord

logger = logging.getLogger(__name__)

# The read-cache key of the dashboard figures' generation token: deleting it retires every
# cached copy of the figures at once.
CACHED_FIGURES_GENERATION_KEY = "admin:v1:figures:generation"


def cached_record_keys(client_id: str) -> tuple[str, str]:
    """The read-cache keys of one record's copy (its generation token, the copy). admin-api
    caches under them; whoever changes or erases the record deletes both."""
    prefix = f"admin:v1:record:{client_id}"
    return f"{prefix}:generation", prefix


@dataclass
class Erasure:
    """The erasures made together (one staff request, one retention run, one reapply), over
    the adapters given, and what they did: no queue with Service Bus, which cannot purge by
    subject; no cache where there is none to reach."""

    store: StaffSubmissionStore
    queue: SubjectQueue | None = None
    cache: ReadCache | None = None
    erased: int = 0
    queue_messages_purged: int = 0
    # The records whose cached copy may have outlived their erasure (the cache failed).
    copies_left: list[str] = field(default_factory=list)
    _copies_dropped: bool = False

    async def erase(self, entry: AuditEntry) -> StoredRecord:
        """Erase ``entry.client_id`` with ``entry`` as its audit entry, and drop its copies.
        An erased record is erased again: audited again, its copies dropped again."""
        assert entry.client_id is not None, "an erasure is of one record"
        # The store first: once the outbox event is gone no relay can re-queue a message we purge.
        erased = await self.store.erase(entry.client_id, entry)
        self.erased += 1
        await self.drop_copies(entry.client_id)
        return erased

    async def drop_copies(self, client_id: str) -> None:
        """The erased record's copies in the read cache and its messages in the embedded queue.
        Called alone for a record already erased, it finishes an erasure that stopped after
        the store's transaction."""
        # The cache first: from here on no reader is served the personal data.
        await self._drop_cached_copies(client_id)
        if self.queue is not None:
            self.queue_messages_purged += await self.queue.purge_subject(client_id)
        self._copies_dropped = True

    async def _drop_cached_copies(self, client_id: str) -> None:
        if self.cache is None:
            return
        try:
            await self.cache.delete(*cached_record_keys(client_id))
        except CacheUnavailable as error:
            logger.warning("record erased, its cached copy not dropped: %s", error)
            self.copies_left.append(client_id)
            return  # the figures' copies are in the same cache: they expire on their own
        try:
            await self.cache.delete(CACHED_FIGURES_GENERATION_KEY)
        except CacheUnavailable as error:
            logger.warning("record erased, cached figures not dropped: %s", error)

    async def finish(self) -> None:
        """Rewrite what the engine kept on disk of the data erased (or dropped) so far: once,
        after the last erasure, not per record (it is slow on a large store)."""
        if self._copies_dropped:
            await self.store.forget_erased_remnants()
