"""The submit handler over the real SQLite store and queue."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import pytest

from intake_api import submissions
from intake_api.fast_path import FastPath, bus_breaker
from intake_api.metrics import ApiMetrics
from intake_api.submissions import (
    SubmissionPolicy,
    SubmitOnboarding,
    UnknownPrivacyNotice,
    hash_source_ip,
    submit,
)
from intake_core.domain.client_id import new_client_id
from intake_core.domain.models import SubmissionCreate
from intake_core.ports.intake import ClientIdTaken

KEY = b"unit-test-key"
MOMENT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def policy() -> SubmissionPolicy:
    # One per test: its fast-path breaker remembers failures.
    return SubmissionPolicy(ip_hash_key=KEY)


def clock() -> datetime:
    return MOMENT


class DownPublisher:
    """A fake bus that is down: the embedded queue cannot be made to fail on demand."""

    async def publish_batch(self, events) -> None:
        raise ConnectionError("bus down")

    async def close(self) -> None: ...


def command(body: dict, **extra) -> SubmitOnboarding:
    return SubmitOnboarding(content=SubmissionCreate.model_validate(body), **extra)


async def test_saves_record_event_and_audit_then_publishes(
    store, queue, valid_body, policy
) -> None:
    result = await submit(
        command(valid_body, source_ip="203.0.113.7", user_agent="Mozilla/5.0 " + "x" * 500),
        store,
        queue,
        clock,
        policy,
    )

    assert result.created and result.submitted_at == MOMENT
    saved = await store.get(result.client_id)
    assert saved is not None and saved.company.name == "Contoso Ltd"
    [audit] = await store.audit_trail(result.client_id)
    assert (audit.action, audit.actor, audit.at) == ("submission.created", "client", MOMENT)
    assert audit.details["sourceIpHash"] == hash_source_ip("203.0.113.7", KEY)
    assert "203.0.113.7" not in str(audit.details)
    assert "ada@example.com" not in str(audit.details)
    assert len(audit.details["userAgent"]) == 200
    # Published on the fast path (in the background), and marked so the relay has nothing to do.
    await policy.fast_path.drain()
    assert await queue.depth() == 1
    assert (await store.outbox_stats()).backlog == 0


async def test_a_bus_outage_does_not_fail_the_submission(store, valid_body, policy) -> None:
    result = await submit(command(valid_body), store, DownPublisher(), clock, policy)
    await policy.fast_path.drain()

    assert result.created
    assert await store.get(result.client_id) is not None
    assert (await store.outbox_stats()).backlog == 1  # left for the relay


async def test_a_taken_client_id_is_replaced(store, queue, valid_body, monkeypatch, policy) -> None:
    taken = (await submit(command(valid_body), store, queue, clock, policy)).client_id
    fresh = new_client_id()
    monkeypatch.setattr(submissions, "new_client_id", iter([taken, taken, fresh]).__next__)

    result = await submit(command(valid_body), store, queue, clock, policy)

    assert result.client_id == fresh
    assert await store.get(fresh) is not None


async def test_client_id_retries_are_bounded(store, queue, valid_body, monkeypatch, policy) -> None:
    taken = (await submit(command(valid_body), store, queue, clock, policy)).client_id
    monkeypatch.setattr(submissions, "new_client_id", itertools.repeat(taken).__next__)

    with pytest.raises(ClientIdTaken):
        await submit(command(valid_body), store, queue, clock, policy)


async def test_only_known_privacy_notices(store, queue, valid_body) -> None:
    policy = SubmissionPolicy(ip_hash_key=b"k", privacy_notice_versions=("2025-06",))
    with pytest.raises(UnknownPrivacyNotice):
        await submit(command(valid_body), store, queue, clock, policy)
    assert (await store.outbox_stats()).backlog == 0

    valid_body["consent"]["privacyNoticeVersion"] = "2025-06"
    assert (await submit(command(valid_body), store, queue, clock, policy)).created


async def test_same_key_same_body_replays(store, queue, valid_body, policy) -> None:
    first = await submit(command(valid_body, idempotency_key="k-1"), store, queue, clock, policy)
    again = await submit(command(valid_body, idempotency_key="k-1"), store, queue, clock, policy)

    await policy.fast_path.drain()
    assert first.created and not again.created
    assert again.client_id == first.client_id
    assert await queue.depth() == 1


async def test_a_hanging_bus_slows_no_submission_and_is_tried_once(store, valid_body) -> None:
    class HangingPublisher:
        """A fake bus that never answers (a black-holed network)."""

        calls = 0
        given_up = 0

        async def publish_batch(self, events) -> None:
            HangingPublisher.calls += 1
            try:
                await asyncio.sleep(3600)
            finally:
                HangingPublisher.given_up += 1

        async def close(self) -> None: ...

    policy = SubmissionPolicy(
        ip_hash_key=b"k", publish_timeout_seconds=0.2, fast_path=FastPath(bus_breaker(60))
    )
    first = await submit(command(valid_body), store, HangingPublisher(), clock, policy)
    # Had the answer waited for the bus, the publish would have been given up (timed out) by now.
    assert HangingPublisher.given_up == 0, "the answer must not wait for the bus"
    await policy.fast_path.drain()  # the first publish times out and opens the breaker
    second = await submit(command(valid_body), store, HangingPublisher(), clock, policy)
    await policy.fast_path.drain()

    assert first.created and second.created
    assert (HangingPublisher.calls, HangingPublisher.given_up) == (1, 1)
    assert (await store.outbox_stats()).backlog == 2  # both left for the relay


class GatedBus:
    """The real queue behind a gate: each batch waits until the test opens it, so events
    committed meanwhile pile up as they do under load. Records every batch's size."""

    def __init__(self, queue, fail_first: bool = False) -> None:
        self.queue = queue
        self.gate = asyncio.Event()
        self.fail_first = fail_first
        self.batches: list[int] = []

    async def publish_batch(self, events) -> None:
        self.batches.append(len(events))
        await self.gate.wait()
        if self.fail_first and len(self.batches) == 1:
            raise ConnectionError("bus down")
        await self.queue.publish_batch(events)


async def test_events_committed_while_a_batch_travels_go_out_together(
    store, queue, valid_body
) -> None:
    bus = GatedBus(queue)
    policy = SubmissionPolicy(ip_hash_key=b"k", fast_path=FastPath(max_batch=3))
    await submit(command(valid_body), store, bus, clock, policy)
    await asyncio.sleep(0)  # the first event leaves alone, at once
    assert bus.batches == [1]
    for _ in range(4):
        await submit(command(valid_body), store, bus, clock, policy)
    bus.gate.set()
    await policy.fast_path.drain()

    assert bus.batches == [1, 3, 1]  # then up to max_batch per publish
    assert await queue.depth() == 5
    assert (await store.outbox_stats()).backlog == 0  # every batch marked in one write


async def test_a_failed_batch_leaves_it_and_those_waiting_to_the_relay(
    store, queue, valid_body
) -> None:
    bus = GatedBus(queue, fail_first=True)
    policy = SubmissionPolicy(ip_hash_key=b"k", fast_path=FastPath(bus_breaker(60)))
    for _ in range(3):
        await submit(command(valid_body), store, bus, clock, policy)
    bus.gate.set()
    await policy.fast_path.drain()
    await submit(command(valid_body), store, bus, clock, policy)  # the breaker is open now
    await policy.fast_path.drain()

    assert bus.batches == [1]
    assert await queue.depth() == 0
    assert (await store.outbox_stats()).backlog == 4


async def test_events_beyond_the_pending_bound_are_left_to_the_relay(
    store, queue, valid_body
) -> None:
    bus = GatedBus(queue)
    policy = SubmissionPolicy(ip_hash_key=b"k", fast_path=FastPath(max_pending=2))
    for _ in range(3):
        await submit(command(valid_body), store, bus, clock, policy)
    bus.gate.set()
    await policy.fast_path.drain()

    assert sum(bus.batches) == 2
    assert await queue.depth() == 2
    assert (await store.outbox_stats()).backlog == 1  # the third waits for the relay


async def test_fast_path_publishes_and_failures_are_counted(store, queue, valid_body) -> None:
    metrics = ApiMetrics()
    policy = SubmissionPolicy(ip_hash_key=b"k", fast_path=FastPath(metrics=metrics))
    for _ in range(2):
        await submit(command(valid_body), store, queue, clock, policy)
        await policy.fast_path.drain()
    down = SubmissionPolicy(ip_hash_key=b"k", fast_path=FastPath(metrics=metrics))
    await submit(command(valid_body), store, DownPublisher(), clock, down)
    await down.fast_path.drain()

    text = metrics.exposition().decode()
    assert 'intake_relay_published_total{path="fast"} 2.0' in text
    assert 'intake_relay_publish_duration_seconds_count{path="fast"} 2.0' in text
    assert 'intake_relay_publish_failures_total{path="fast"} 1.0' in text


async def test_the_breaker_closes_after_its_cooldown_when_the_trial_succeeds() -> None:
    # A cool-down of a second: "still cooling down" must be read inside it on a loaded machine.
    breaker = bus_breaker(cooldown_seconds=1.0)
    assert breaker.admits()
    with pytest.raises(ConnectionError), breaker.guarding():
        raise ConnectionError("bus down")
    assert not breaker.admits()
    await asyncio.sleep(1.05)
    assert breaker.admits(5) == 1  # one trial
    with breaker.guarding():
        pass
    assert breaker.admits(5) == 5
