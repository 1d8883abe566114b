"""The one erasure workflow (admin-api, the retention job, a reapply after a restore): the
store's transaction, then the record's cached copies, its queue messages and what the engine
kept on disk; a cache that fails after the transaction stops none of the steps after it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.memory_cache import MemoryReadCache
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.erasure import CACHED_FIGURES_GENERATION_KEY, Erasure, cached_record_keys
from support import stored_event
from support.unreachable_cache import UnreachableCache

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class RemnantsCountingStore(SqliteSubmissionStore):
    remnants_forgotten = 0

    async def forget_erased_remnants(self) -> None:
        self.remnants_forgotten += 1
        await super().forget_erased_remnants()


@pytest.fixture
async def store(tmp_path):
    store = RemnantsCountingStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def queue(tmp_path):
    queue = LocalQueue(tmp_path / "queue.db")
    await queue.open()
    yield queue
    await queue.close()


def entry(client_id: str) -> AuditEntry:
    return AuditEntry(AuditAction.ERASE, "dpo@example.com", NOW, client_id, {"reason": "other"})


async def test_an_erasure_drops_the_cached_copies_and_queue_messages_then_the_remnants(
    store, queue
) -> None:
    event = await stored_event(store)
    await queue.publish(event)
    cache = MemoryReadCache(100)
    for key in (*cached_record_keys(event.subject), CACHED_FIGURES_GENERATION_KEY):
        await cache.set(key, b"a copy", 60)
    erasure = Erasure(store, queue, cache)

    erased = await erasure.erase(entry(event.subject))

    assert erased.erased and (await store.get_record(event.subject)).erased
    assert [await cache.get(key) for key in cached_record_keys(event.subject)] == [None, None]
    assert await cache.get(CACHED_FIGURES_GENERATION_KEY) is None
    assert (erasure.erased, erasure.queue_messages_purged, erasure.copies_left) == (1, 1, [])
    assert await queue.depth() == 0
    assert store.remnants_forgotten == 0  # once for all the erasures, by finish
    await erasure.finish()
    assert store.remnants_forgotten == 1


async def test_a_cache_that_fails_after_the_store_stops_nothing_and_lists_the_record(
    store, queue
) -> None:
    """The store's transaction is the commitment: the queue and the disk are still cleaned,
    and the caller learns which records' cached copies may have survived."""
    event = await stored_event(store)
    await queue.publish(event)
    erasure = Erasure(store, queue, UnreachableCache())

    await erasure.erase(entry(event.subject))
    await erasure.finish()

    assert (await store.get_record(event.subject)).erased
    assert await queue.depth() == 0 and erasure.queue_messages_purged == 1
    assert store.remnants_forgotten == 1
    assert erasure.copies_left == [event.subject]


async def test_dropping_the_copies_alone_finishes_an_erasure_that_stopped(store, queue) -> None:
    event = await stored_event(store)
    await queue.publish(event)
    await store.erase(event.subject, entry(event.subject))  # then the process stopped
    erasure = Erasure(store, queue, MemoryReadCache(100))

    await erasure.drop_copies(event.subject)
    await erasure.finish()

    assert erasure.erased == 0 and erasure.queue_messages_purged == 1
    assert await queue.depth() == 0 and store.remnants_forgotten == 1
    assert len(await store.audit_trail(event.subject)) == 2  # created, erased: nothing more
