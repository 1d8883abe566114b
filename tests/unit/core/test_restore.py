"""After a restore: the erasures file is checked whole, and each record it lists is erased again
on the restored store (audited as ``system:restore``), once, whatever the number of runs."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.memory_cache import MemoryReadCache
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.erasure import RESTORE_ACTOR, RecordedErasure
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission
from intake_core.erasure import CACHED_FIGURES_GENERATION_KEY, Erasure, cached_record_keys
from intake_core.ports.staff import SearchQuery
from intake_core.restore import (
    MAX_LINE_BYTES,
    ErasureFileError,
    erasure_line,
    first_of_each_record,
    read_erasures,
    reapply_erasures,
)
from support import make_submission

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ERASED_AT = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
CLIENT_ID = new_client_id()
GOOD = json.dumps({"clientId": CLIENT_ID, "erasedAt": "2026-05-20T09:30:00Z", "reason": None})


@pytest.fixture
async def store(tmp_path):
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def queue(tmp_path):
    queue = LocalQueue(tmp_path / "queue.db")
    await queue.open()
    yield queue
    await queue.close()


async def saved(store) -> Submission:
    submission = make_submission(submitted_at=NOW - timedelta(days=30))
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, submission_created(submission), audit)
    return submission


def read(text: bytes) -> list[RecordedErasure]:
    return read_erasures(io.BytesIO(text))


def test_a_listed_line_reads_back_as_the_erasure_it_was() -> None:
    erasure = RecordedErasure(CLIENT_ID, ERASED_AT, "consent-withdrawn")
    unstated = RecordedErasure(CLIENT_ID, ERASED_AT, None)
    text = f"{erasure_line(erasure)}\n\n  \r\n{erasure_line(unstated)}".encode()
    assert read(text) == [erasure, unstated]
    assert read(b"") == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"not json", "is not a JSON object"),
        (b"[1, 2, 3]", "is not a JSON object"),
        (b'"CL-0000"', "is not a JSON object"),
        (GOOD[:-1].encode(), "is not a JSON object"),
        (b'{"clientId": "x", "clientId": "y", "erasedAt": "", "reason": null}', "JSON object"),
        (GOOD.replace('"reason": null', '"note": "x"').encode(), "exactly the fields"),
        (GOOD.replace(', "reason": null', "").encode(), "exactly the fields"),
        (GOOD.replace("}", ', "actor": "me"}').encode(), "exactly the fields"),
        (GOOD.replace(CLIENT_ID, CLIENT_ID[:-1] + "Z" if CLIENT_ID[-1] != "Z" else "Y").encode(),
         "clientId is not a Client ID"),
        (GOOD.replace(CLIENT_ID, CLIENT_ID.lower()).encode(), "clientId is not a Client ID"),
        (GOOD.replace(f'"{CLIENT_ID}"', "12").encode(), "clientId is not a Client ID"),
        (GOOD.replace(CLIENT_ID, "'; DROP TABLE audit;--").encode(), "clientId is not"),
        (GOOD.replace("2026-05-20T09:30:00Z", "2026-05-20T09:30:00").encode(), "UTC offset"),
        (GOOD.replace("2026-05-20T09:30:00Z", "yesterday").encode(), "erasedAt is not"),
        (GOOD.replace('"2026-05-20T09:30:00Z"', "1780000000").encode(), "erasedAt is not"),
        (GOOD.replace("null", '"because"').encode(), "reason is not null or one of"),
        (GOOD.replace("null", '"ada@example.com"').encode(), "reason is not null or one of"),
        (GOOD.replace("null", '["retention"]').encode(), "reason is not null or one of"),
        (GOOD.replace("null", '"\\u001b[2Jretention"').encode(), "reason is not null or one"),
        (b'{"clientId": "\xff\xfe"}', "is not UTF-8 text"),
        (GOOD.encode() + b" " * MAX_LINE_BYTES, f"is longer than {MAX_LINE_BYTES} bytes"),
        (b"\x00" * 10, "is not a JSON object"),
    ],
)  # fmt: skip
def test_a_line_that_is_not_ours_is_refused_by_its_number(line: bytes, problem: str) -> None:
    with pytest.raises(ErasureFileError) as refused:
        read(GOOD.encode() + b"\n\n" + line + b"\n" + GOOD.encode())
    assert refused.value.line == 3
    assert str(refused.value).startswith("line 3: ") and problem in str(refused.value)
    assert "\x1b" not in str(refused.value) and "ada@" not in str(refused.value)


def test_each_record_counts_once_at_its_first_erasure() -> None:
    other = new_client_id()
    later = RecordedErasure(CLIENT_ID, ERASED_AT + timedelta(hours=1), "not-needed")
    first = RecordedErasure(CLIENT_ID, ERASED_AT, "subject-request")
    between = RecordedErasure(other, ERASED_AT + timedelta(minutes=1), None)
    assert first_of_each_record([later, between, first]) == [first, between]


async def test_reapplying_erases_what_the_restore_brought_back_once(store, queue) -> None:
    back, erased_before, kept = await saved(store), await saved(store), await saved(store)
    await store.erase(
        erased_before.client_id,
        AuditEntry(
            AuditAction.ERASE, "dpo@example.com", NOW - timedelta(days=2), erased_before.client_id
        ),
    )
    await queue.publish(submission_created(back))
    await queue.publish(submission_created(kept))
    cache = MemoryReadCache(100)
    for key in (*cached_record_keys(back.client_id), CACHED_FIGURES_GENERATION_KEY):
        await cache.set(key, b"a copy with personal data", 60)
    never_here = new_client_id()
    erasures = [
        RecordedErasure(back.client_id, ERASED_AT, "consent-withdrawn"),
        RecordedErasure(erased_before.client_id, ERASED_AT, None),
        RecordedErasure(never_here, ERASED_AT, "subject-request"),
        RecordedErasure(back.client_id, ERASED_AT + timedelta(hours=1), "other"),  # a repeat
    ]

    report = await reapply_erasures(Erasure(store, queue, cache), erasures, clock=lambda: NOW)

    assert report.reapplied == [back.client_id]
    assert report.already_erased == [erased_before.client_id]
    assert report.not_found == [never_here]
    assert report.queue_messages_purged == 1 and await queue.depth() == 1
    assert [await cache.get(key) for key in cached_record_keys(back.client_id)] == [None, None]
    assert await cache.get(CACHED_FIGURES_GENERATION_KEY) is None
    stored = await store.get_record(back.client_id)
    assert stored is not None and stored.erased
    assert (await store.search(SearchQuery(text=back.company.name))).items == [
        await store.get(kept.client_id)
    ]
    [*_, entry] = await store.audit_trail(back.client_id)
    assert entry == AuditEntry(
        AuditAction.ERASE,
        RESTORE_ACTOR,
        NOW,
        back.client_id,
        {"reason": "consent-withdrawn", "originallyErasedAt": "2026-05-20T09:30:00.000000+00:00"},
    )
    trail_before = len(await store.audit_trail(erased_before.client_id))

    again = await reapply_erasures(Erasure(store, queue, cache), erasures, clock=lambda: NOW)

    assert again.reapplied == [] and again.not_found == [never_here]
    assert again.already_erased == [back.client_id, erased_before.client_id]
    assert len(await store.audit_trail(back.client_id)) == 2  # created, erased: nothing more
    assert len(await store.audit_trail(erased_before.client_id)) == trail_before
    assert (await store.verify_audit_chain()).intact


async def test_an_erasure_without_a_reason_is_reapplied_as_unstated(store) -> None:
    record = await saved(store)
    erasures = [RecordedErasure(record.client_id, ERASED_AT, None)]
    report = await reapply_erasures(Erasure(store), erasures, clock=lambda: NOW)
    assert report.reapplied == [record.client_id] and report.queue_messages_purged == 0
    [*_, entry] = await store.audit_trail(record.client_id)
    assert entry.details["reason"] == "unstated" and entry.actor == RESTORE_ACTOR


async def test_a_rerun_finishes_an_erasure_that_stopped_after_the_store(store, queue) -> None:
    record = await saved(store)
    # A first run erased the record in the store and stopped before the queue and the cache.
    entry = AuditEntry(AuditAction.ERASE, RESTORE_ACTOR, NOW, record.client_id, {"reason": "other"})
    await store.erase(record.client_id, entry)
    await queue.publish(submission_created(record))
    cache = MemoryReadCache(100)
    for key in cached_record_keys(record.client_id):
        await cache.set(key, b"a copy with personal data", 60)

    erasures = [RecordedErasure(record.client_id, ERASED_AT, "other")]
    report = await reapply_erasures(Erasure(store, queue, cache), erasures, clock=lambda: NOW)

    assert report.already_erased == [record.client_id] and report.queue_messages_purged == 1
    assert await queue.depth() == 0
    assert [await cache.get(key) for key in cached_record_keys(record.client_id)] == [None, None]
    assert len(await store.audit_trail(record.client_id)) == 2  # not audited again
