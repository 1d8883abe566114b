"""The SubjectQueue contract: an erasure purges a subject's messages, dead letters included.

Only the embedded queue implements it (Service Bus cannot delete undelivered messages; there the
notifier skips events of erased records), so the parameter list has one adapter.
"""

from __future__ import annotations

import contextlib
import copy
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intake_core.adapters import sqlite_base
from intake_core.adapters.local_queue import LocalQueue
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission
from intake_core.ports.store import StoreUnavailable
from support import VALID_BODY, make_submission


@pytest.fixture(params=["local"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LocalQueue]:
    adapter = LocalQueue(tmp_path / "queue.db", lock_seconds=30, max_delivery_count=3)
    await adapter.open()
    yield adapter
    await adapter.close()


def subject(email: str) -> Submission:
    body = copy.deepcopy(VALID_BODY)
    body["company"]["contact"]["email"] = email
    return make_submission(body)


def file_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in directory.glob("queue.db*"))


async def test_purge_removes_waiting_locked_and_dead_lettered_messages(
    queue: LocalQueue, tmp_path: Path
) -> None:
    erased, kept = subject("purge-me@contoso.example"), subject("keep-me@fabrikam.example")
    for event in (submission_created(erased), submission_created(erased)):
        await queue.publish(event)
    [locked, dead] = await queue.receive(2, 0)
    await queue.dead_letter(dead, "Poison", "for the test")
    await queue.publish(submission_created(erased))  # waiting
    kept_event = submission_created(kept)
    await queue.publish(kept_event)
    await queue.send("not-json", "{{{ not a cloud event", {})

    assert await queue.purge_subject(erased.client_id) == 3

    assert await queue.dead_letters() == []
    remaining = await queue.receive(10, 0)
    assert {d.message_id for d in remaining} == {kept_event.id, "not-json"}
    await queue.complete(locked)  # the worker that held it finishes: nothing breaks
    assert b"purge-me@contoso.example" not in file_bytes(tmp_path)
    assert b"keep-me@fabrikam.example" in file_bytes(tmp_path)


async def test_purging_an_unknown_or_hostile_subject_removes_nothing(queue: LocalQueue) -> None:
    await queue.publish(submission_created(subject("a@contoso.example")))
    for hostile in ("", "%", "' OR 1=1 --", "\x00", "CL-0000-0000-0000", "*"):
        assert await queue.purge_subject(hostile) == 0
    assert await queue.depth() == 1


async def test_a_purge_a_reader_keeps_from_the_disk_is_refused_until_repeated(
    queue: LocalQueue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The messages go at once, but the write-ahead log keeps their pages while another
    connection holds a snapshot: the purge says so (the erasure answers 503), and a repeat
    once the reader is gone empties it."""
    monkeypatch.setattr(sqlite_base, "WAL_TRUNCATE_DEADLINE_SECONDS", 0.3)
    erased = subject("purge-me@contoso.example")
    await queue.publish(submission_created(erased))
    with contextlib.closing(sqlite3.connect(tmp_path / "queue.db", isolation_level=None)) as other:
        other.execute("PRAGMA busy_timeout=0")
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM messages").fetchone()
        with pytest.raises(StoreUnavailable):
            await queue.purge_subject(erased.client_id)
        other.execute("COMMIT")
    assert await queue.purge_subject(erased.client_id) == 0
    assert b"purge-me@contoso.example" not in file_bytes(tmp_path)
