"""Which dead letters a purge removes, read from the message alone: its Client ID (the
CloudEvent's ``subject``) and its age (the event's ``time``, else when the queue took it).
The adapters' side, and the store's, are in tests/contract/test_event_bus.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.dead_letter_purge import PURGE_ACTOR, PurgeReason, purge_dead_letters
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.ports.lifetimes import DEAD_LETTER_MAX_AGE_DAYS, LEDGER_TTL_SECONDS
from intake_core.ports.queue import DeadLetter
from support import stored_event

NOW = datetime(2026, 6, 1, tzinfo=UTC)


class DeadLetters:
    """An in-memory dead-letter queue."""

    def __init__(self, *letters: DeadLetter) -> None:
        self.letters = list(letters)

    async def dead_letters(self) -> list[DeadLetter]:
        return list(self.letters)

    async def replay_dead_letters(self) -> int:
        raise NotImplementedError

    async def purge_dead_letters(
        self, doomed: Callable[[DeadLetter], Awaitable[bool]]
    ) -> list[DeadLetter]:
        removed = [letter for letter in list(self.letters) if await doomed(letter)]
        self.letters = [letter for letter in self.letters if letter not in removed]
        return removed

    async def close(self) -> None:
        pass


def letter(body: object, *, enqueued_at: datetime = NOW, message_id: str = "m") -> DeadLetter:
    text = body if isinstance(body, str) else json.dumps(body)
    return DeadLetter(message_id, text, "MalformedEvent", "", 1, enqueued_at)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteSubmissionStore]:
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


async def reasons(store: SqliteSubmissionStore, *letters: DeadLetter, **options: object) -> dict:
    report = await purge_dead_letters(
        DeadLetters(*letters), store, actor=PURGE_ACTOR, clock=lambda: NOW, **options
    )
    return {purged.event_id: purged.reason for purged in report.purged}


def test_the_default_limit_is_the_ledgers_lifetime() -> None:
    """Within it a replayed dead letter's ledger entry is still there: no second email."""
    assert DEAD_LETTER_MAX_AGE_DAYS * 24 * 3600 == LEDGER_TTL_SECONDS == 30 * 24 * 3600


async def test_age_is_the_events_time_and_only_an_older_one_goes(store) -> None:
    limit = timedelta(days=DEAD_LETTER_MAX_AGE_DAYS)
    at_limit = letter({"time": (NOW - limit).isoformat()}, message_id="at")
    older = letter({"time": (NOW - limit - timedelta(seconds=1)).isoformat()}, message_id="old")
    # A replayed copy was taken by the queue lately: its event's time still counts.
    replayed = letter(
        {"time": (NOW - limit - timedelta(days=1)).isoformat()}, enqueued_at=NOW, message_id="r"
    )
    assert await reasons(store, at_limit, older, replayed) == {
        "old": PurgeReason.EXPIRED,
        "r": PurgeReason.EXPIRED,
    }
    assert await reasons(store, at_limit, max_age_days=1) == {"at": PurgeReason.EXPIRED}


async def test_a_body_without_an_event_time_goes_by_when_the_queue_took_it(store) -> None:
    old = NOW - timedelta(days=31)
    letters = [
        letter("{{{ not json", enqueued_at=old, message_id="text"),
        letter([1, 2], enqueued_at=old, message_id="list"),
        letter({"time": "yesterday"}, enqueued_at=old, message_id="bad-time"),
        letter("{{{ not json", message_id="young"),
    ]
    assert await reasons(store, *letters) == {
        "text": PurgeReason.EXPIRED,
        "list": PurgeReason.EXPIRED,
        "bad-time": PurgeReason.EXPIRED,
    }


async def test_a_subject_that_is_no_client_id_names_no_record(store) -> None:
    """Only a Client ID is looked up; anything else is judged by age, so a young one stays."""
    hostile = ["", "%", "' OR 1=1 --", "CL-0000-0000-0001", "../x", 42]
    letters = [
        letter({"subject": s, "time": NOW.isoformat()}, message_id=str(n))
        for n, s in enumerate(hostile)
    ]
    assert await reasons(store, *letters) == {}


async def test_a_client_id_typed_loosely_is_looked_up_in_its_canonical_form(store) -> None:
    event = await stored_event(store)
    await store.erase(
        event.subject, AuditEntry(AuditAction.ERASE, "dpo@example.com", NOW, event.subject)
    )
    loose = event.subject.lower().replace("-", "")
    report = await purge_dead_letters(
        DeadLetters(letter({"subject": loose, "time": NOW.isoformat()})),
        store,
        actor=PURGE_ACTOR,
        clock=lambda: NOW,
    )
    [purged] = report.purged
    assert (purged.client_id, purged.reason) == (event.subject, PurgeReason.ERASED)


async def test_a_dead_letter_whose_record_the_store_lacks_is_kept_until_the_age_limit(
    store,
) -> None:
    """After a point-in-time restore, the dead letters of submissions made after the restore
    point name records the restored store does not have: they may be all that is left of those
    submissions, so they are kept (replayable) as long as any other, then go as expired."""
    limit = timedelta(days=DEAD_LETTER_MAX_AGE_DAYS)
    young = letter({"subject": new_client_id(), "time": NOW.isoformat()}, message_id="young")
    old_subject = new_client_id()
    old = letter(
        {"subject": old_subject, "time": (NOW - limit - timedelta(seconds=1)).isoformat()},
        message_id="old",
    )
    queue = DeadLetters(young, old)

    report = await purge_dead_letters(queue, store, actor=PURGE_ACTOR, clock=lambda: NOW)

    assert [(p.event_id, p.client_id, p.reason) for p in report.purged] == [
        ("old", old_subject, PurgeReason.EXPIRED)
    ]
    assert queue.letters == [young] and report.kept == 1


@pytest.mark.parametrize("days", [0, -1, DEAD_LETTER_MAX_AGE_DAYS + 1])
async def test_a_limit_beyond_the_ledgers_is_refused(store, days: int) -> None:
    with pytest.raises(ValueError, match="max_age_days"):
        await purge_dead_letters(DeadLetters(), store, actor=PURGE_ACTOR, max_age_days=days)
