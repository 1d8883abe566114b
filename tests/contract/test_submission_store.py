"""The SubmissionStore contract: its intake, outbox and notify-ledger roles, and ``search``,
the whole records of the page ``search_hits`` summarises."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import submission_created
from intake_core.domain.models import Industry
from intake_core.ports.intake import ClientIdTaken, Idempotency, IdempotencyConflict
from intake_core.ports.staff import SearchQuery
from intake_core.ports.store import SubmissionStore
from support import VALID_BODY, make_submission


def created_audit(client_id: str) -> AuditEntry:
    return AuditEntry("submission.created", "client", datetime.now(UTC), client_id)


async def save(store: SubmissionStore, idempotency: Idempotency | None = None, **changes: object):
    submission = make_submission(**changes)
    result = await store.save_new(
        submission, submission_created(submission), created_audit(submission.client_id), idempotency
    )
    return submission, result


async def test_saved_submission_reads_back_whole(store: SubmissionStore) -> None:
    submission, result = await save(store)
    assert result.created and result.client_id == submission.client_id
    assert await store.get(submission.client_id) == submission
    assert await store.get("CL-0000-0000-001Y") is None


async def test_submission_outbox_event_and_audit_are_written_together(
    store: SubmissionStore,
) -> None:
    submission, _ = await save(store)
    assert (await store.outbox_stats()).backlog == 1
    trail = await store.audit_trail(submission.client_id)
    assert [entry.action for entry in trail] == ["submission.created"]


async def test_a_taken_client_id_writes_nothing(store: SubmissionStore) -> None:
    first, _ = await save(store)
    with pytest.raises(ClientIdTaken):
        await save(store, client_id=first.client_id)
    assert (await store.outbox_stats()).backlog == 1
    assert len(await store.audit_trail(first.client_id)) == 1


async def test_idempotency_key_returns_the_first_result(store: SubmissionStore) -> None:
    key = Idempotency("key-1", "fingerprint-a")
    first, _ = await save(store, key)
    _, again = await save(store, key)
    assert not again.created
    assert again.client_id == first.client_id
    assert (await store.outbox_stats()).backlog == 1
    with pytest.raises(IdempotencyConflict):
        await save(store, Idempotency("key-1", "fingerprint-b"))


async def test_concurrent_requests_with_one_key_create_one_record(store: SubmissionStore) -> None:
    key = Idempotency("same-key", "same-fingerprint")
    results = await asyncio.gather(*(save(store, key) for _ in range(50)))
    assert len({result.client_id for _, result in results}) == 1
    assert sum(result.created for _, result in results) == 1
    assert len((await store.search(SearchQuery(limit=100))).items) == 1


def named(company_name: str) -> dict[str, Any]:
    body = copy.deepcopy(VALID_BODY)
    body["company"]["name"] = company_name
    return body


async def test_many_saved_at_once_are_each_whole_findable_and_audited(
    store: SubmissionStore,
) -> None:
    """Concurrent saves share a transaction on SQLite (one statement per table for them all):
    each must still be stored whole, with its event, its audit entry and its search entry."""
    saved = await asyncio.gather(
        *(save(store, body=named(f"Batch {n:02d} Ltd")) for n in range(40))
    )
    assert all(result.created for _, result in saved)
    assert (await store.outbox_stats()).backlog == 40
    for n, (submission, result) in enumerate(saved):
        assert result.client_id == submission.client_id
        assert await store.get(submission.client_id) == submission
        trail = await store.audit_trail(submission.client_id)
        assert [(entry.action, entry.client_id) for entry in trail] == [
            ("submission.created", submission.client_id)
        ]
        found = await store.search(SearchQuery(text=f"batch {n:02d}", limit=5))
        assert [hit.client_id for hit in found.items] == [submission.client_id]


async def test_a_taken_client_id_among_many_fails_alone(store: SubmissionStore) -> None:
    taken, _ = await save(store)
    twice = make_submission().client_id
    ids = [None] * 10 + [taken.client_id, twice, twice] + [None] * 10
    outcomes = await asyncio.gather(
        *(save(store, client_id=client_id) for client_id in ids), return_exceptions=True
    )
    failed = [n for n, outcome in enumerate(outcomes) if isinstance(outcome, ClientIdTaken)]
    assert failed[0] == 10 and len(failed) == 2 and failed[1] in (11, 12)  # one of the pair
    assert (await store.outbox_stats()).backlog == 1 + len(ids) - 2
    assert len(await store.audit_trail(taken.client_id)) == 1
    assert len(await store.audit_trail(twice)) == 1


async def test_keys_saved_at_once_answer_as_they_would_alone(store: SubmissionStore) -> None:
    known, _ = await save(store, Idempotency("known", "fingerprint-a"))
    requests = [
        *(Idempotency(f"new-{n}", "f") for n in range(10)),
        Idempotency("known", "fingerprint-a"),  # a repeat: the first result again
        Idempotency("known", "fingerprint-b"),  # the same key for other content: a conflict
        Idempotency("twice", "f"),
        Idempotency("twice", "f"),  # twice at once: one record
        None,
    ]
    outcomes = await asyncio.gather(*(save(store, key) for key in requests), return_exceptions=True)
    results = [outcome if isinstance(outcome, Exception) else outcome[1] for outcome in outcomes]
    assert all(result.created for result in results[:10])
    assert not results[10].created and results[10].client_id == known.client_id
    assert isinstance(results[11], IdempotencyConflict)
    assert sorted([results[12].created, results[13].created]) == [False, True]
    assert results[12].client_id == results[13].client_id
    assert results[14].created
    assert (await store.outbox_stats()).backlog == 1 + 10 + 1 + 1


async def test_search_by_text_filters_and_pages_newest_first(store: SubmissionStore) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    saved = [(await save(store, submitted_at=start + timedelta(minutes=i)))[0] for i in range(7)]
    seen, token = [], None
    while True:
        page = await store.search(SearchQuery(limit=3, continuation_token=token))
        seen.extend(item.client_id for item in page.items)
        token = page.continuation_token
        if token is None:
            break
    assert seen == [submission.client_id for submission in reversed(saved)]

    target = saved[3]
    for text in (target.client_id.lower(), "CONTOSO", "ada lovelace", "ADA@example"):
        found = await store.search(SearchQuery(text=text, limit=100))
        assert target.client_id in {item.client_id for item in found.items}, text
    only = await store.search(SearchQuery(text=target.client_id))
    assert [item.client_id for item in only.items] == [target.client_id]

    assert not (await store.search(SearchQuery(industry=Industry.RETAIL))).items
    window = await store.search(
        SearchQuery(
            submitted_from=start + timedelta(minutes=2), submitted_to=start + timedelta(minutes=4)
        )
    )
    assert len(window.items) == 3


async def test_search_hits_are_the_search_page_summarised(store: SubmissionStore) -> None:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    for i in range(5):
        await save(store, submitted_at=start + timedelta(minutes=i))
    token: str | None = None
    while True:
        query = SearchQuery(limit=2, continuation_token=token)
        full, hits = await store.search(query), await store.search_hits(query)
        assert hits.continuation_token == full.continuation_token
        assert [
            (
                hit.client_id,
                hit.submitted_at,
                hit.status,
                hit.industry,
                hit.service_type,
                hit.company_name,
                hit.contact_name,
                hit.contact_email,
            )
            for hit in hits.items
        ] == [
            (
                item.client_id,
                item.submitted_at,
                item.status,
                item.company.industry,
                item.engagement.service_type,
                item.company.name,
                item.company.contact.name,
                item.company.contact.email,
            )
            for item in full.items
        ]
        token = hits.continuation_token
        if token is None:
            break
    assert (await store.search_hits(SearchQuery(text="no such text anywhere"))).items == []


async def test_search_text_is_literal_not_a_pattern(store: SubmissionStore) -> None:
    await save(store)
    for text in ("%", "_", "\\", "' OR 1=1 --"):
        assert not (await store.search(SearchQuery(text=text))).items, text


async def test_outbox_claims_are_exclusive_until_released_or_published(
    store: SubmissionStore,
) -> None:
    submission, _ = await save(store)
    claimed = await store.claim_outbox("relay-a", limit=10, lease_seconds=60)
    assert [item.event.subject for item in claimed] == [submission.client_id]
    assert await store.claim_outbox("relay-b", limit=10, lease_seconds=60) == []

    await store.release_outbox(claimed[0].event.id, retry_in_seconds=0)
    again = await store.claim_outbox("relay-b", limit=10, lease_seconds=60)
    assert [item.attempts for item in again] == [2]

    await store.mark_published(again[0].event.id)
    assert (await store.outbox_stats()).backlog == 0
    await store.release_outbox(again[0].event.id, retry_in_seconds=0)
    assert await store.claim_outbox("relay-c", limit=10, lease_seconds=60) == []


async def test_a_claim_can_leave_the_newest_events_alone(store: SubmissionStore) -> None:
    """The relay leaves an event to the fast path for a while after it was saved."""
    fresh, _ = await save(store)
    older, _ = await save(store, submitted_at=datetime.now(UTC) - timedelta(minutes=2))

    [claimed] = await store.claim_outbox("relay", 10, lease_seconds=60, min_age_seconds=60)
    assert claimed.event.subject == older.client_id
    assert await store.claim_outbox("relay", 10, lease_seconds=60, min_age_seconds=60) == []
    [claimed] = await store.claim_outbox("relay", 10, lease_seconds=60)  # no minimum age
    assert claimed.event.subject == fresh.client_id


async def test_a_batch_marked_published_leaves_only_the_others(store: SubmissionStore) -> None:
    """The fast path marks what one publish carried, without claiming it first."""
    for _ in range(4):
        await save(store)
    # Claimed without a lease, only to learn the events' ids.
    *published, left = [item.event for item in await store.claim_outbox("reader", 10, 0)]

    await store.mark_published_batch([event.id for event in published])
    await store.mark_published_batch([])  # nothing to mark: nothing happens

    assert (await store.outbox_stats()).backlog == 1
    [again] = await store.claim_outbox("relay", limit=10, lease_seconds=60)
    assert again.event.id == left.id


async def test_outbox_stats_count_unpublished_events_and_date_the_oldest(
    store: SubmissionStore,
) -> None:
    empty = await store.outbox_stats()
    assert (empty.backlog, empty.oldest_created_at) == (0, None)
    assert empty.oldest_age_seconds(datetime.now(UTC)) == 0

    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    older, _ = await save(store, submitted_at=start)
    await save(store, submitted_at=start + timedelta(minutes=5))
    stats = await store.outbox_stats()
    assert (stats.backlog, stats.oldest_created_at) == (2, start)
    assert stats.oldest_age_seconds(start + timedelta(minutes=10)) == 600

    # Published (even while another event stays leased): the next one is now the oldest.
    claimed = await store.claim_outbox("relay-a", limit=10, lease_seconds=60)
    [first] = [item for item in claimed if item.event.subject == older.client_id]
    await store.mark_published(first.event.id)
    stats = await store.outbox_stats()
    assert (stats.backlog, stats.oldest_created_at) == (1, start + timedelta(minutes=5))


async def test_a_purge_never_takes_an_event_not_yet_published(store: SubmissionStore) -> None:
    """Whatever the cutoff: an unpublished event is still owed a publish."""
    submission, _ = await save(store, submitted_at=datetime.now(UTC) - timedelta(days=30))

    assert (await store.purge_expired(datetime.now(UTC) + timedelta(days=30))).outbox_events == 0
    [owed] = await store.claim_outbox("relay", limit=10, lease_seconds=60)
    assert owed.event.subject == submission.client_id


async def test_a_purge_keeps_an_idempotency_key_first_used_within_its_ttl(
    store: SubmissionStore,
) -> None:
    """Six days on, a retry still gets the first answer (what happens past the TTL is Cosmos
    DB's own doing, which the test server does not do: see tests/unit/core/test_sqlite_expiry.py)."""
    key = Idempotency("kept", "fingerprint-a")
    first, _ = await save(store, key, submitted_at=datetime.now(UTC) - timedelta(days=6))

    assert (await store.purge_expired(datetime.now(UTC))).idempotency_keys == 0
    _, again = await save(store, key)
    assert (again.created, again.client_id) == (False, first.client_id)


async def test_an_expired_lease_is_claimable_again(store: SubmissionStore) -> None:
    await save(store)
    assert len(await store.claim_outbox("crashed-relay", limit=10, lease_seconds=0.05)) == 1
    await asyncio.sleep(0.1)
    assert len(await store.claim_outbox("live-relay", limit=10, lease_seconds=60)) == 1


async def test_concurrent_relays_never_claim_the_same_event(store: SubmissionStore) -> None:
    for _ in range(20):
        await save(store)
    batches = await asyncio.gather(
        *(store.claim_outbox(f"relay-{n}", limit=4, lease_seconds=60) for n in range(8))
    )
    ids = [item.event.id for batch in batches for item in batch]
    assert len(ids) == len(set(ids)) == 20


async def test_handled_ledger_records_once(store: SubmissionStore) -> None:
    assert not await store.was_handled("event-1", "mailer")
    assert await store.record_handled("event-1", "mailer")
    assert not await store.record_handled("event-1", "mailer")
    assert await store.was_handled("event-1", "mailer")
    assert not await store.was_handled("event-1", "another-handler")


async def test_a_ledger_purge_keeps_an_entry_handled_within_its_ttl(
    store: SubmissionStore,
) -> None:
    """A day on, a redelivered event is still a duplicate (what happens past the TTL is the
    store's own doing: see tests/unit/core/test_sqlite_expiry.py)."""
    assert await store.record_handled("event-1", "mailer")

    assert await store.purge_expired_ledger(datetime.now(UTC) + timedelta(days=1)) == 0
    assert await store.was_handled("event-1", "mailer")


async def test_ping_answers(store: SubmissionStore) -> None:
    await store.ping()
