"""The store methods staff need (SqliteSubmissionStore): versions, status changes, erasure."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import ErasedSubmission, Status, Submission, SubmissionCreate
from intake_core.ports.staff import SearchQuery, SubmissionNotFound, VersionConflict

from .conftest import valid_body

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _entry(action: str, client_id: str) -> AuditEntry:
    return AuditEntry(action, "tester", NOW, client_id)


@pytest.fixture
async def store(tmp_path):
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


async def _save(store) -> Submission:
    create = SubmissionCreate.model_validate(valid_body())
    submission = Submission(
        client_id=new_client_id(),
        submitted_at=NOW,
        company=create.company,
        engagement=create.engagement,
        consent=create.consent,
    )
    await store.save_new(
        submission, submission_created(submission), _entry("created", submission.client_id)
    )
    return submission


async def test_update_status_needs_the_current_version(store):
    client_id = (await _save(store)).client_id
    stored = await store.get_record(client_id)
    changed = await store.update_status(
        client_id, Status.CONTACTED, stored.version, _entry("s", client_id)
    )
    assert changed.version != stored.version
    assert changed.record.status is Status.CONTACTED
    with pytest.raises(VersionConflict):
        await store.update_status(
            client_id, Status.QUALIFIED, stored.version, _entry("s", client_id)
        )
    assert (await store.get(client_id)).status is Status.CONTACTED
    [found] = (await store.search(SearchQuery(status=Status.CONTACTED))).items
    assert found.client_id == client_id
    actions = [entry.action for entry in await store.audit_trail(client_id)]
    assert actions == ["created", "s"]  # the failed change wrote no audit entry


async def test_update_status_and_erase_of_an_unknown_record(store):
    with pytest.raises(SubmissionNotFound):
        await store.update_status("CL-0000-0000-0000", Status.CONTACTED, "1", _entry("s", "x"))
    with pytest.raises(SubmissionNotFound):
        await store.erase("CL-0000-0000-0000", _entry("e", "x"))


async def test_an_erased_record_is_a_tombstone_hidden_from_get_and_search(store):
    client_id = (await _save(store)).client_id
    before = await store.get_record(client_id)
    erased = await store.erase(client_id, _entry("erase", client_id))
    assert isinstance(erased.record, ErasedSubmission) and erased.erased
    assert erased.record.erased_at == NOW
    assert await store.get(client_id) is None
    assert (await store.search(SearchQuery())).items == []
    assert (await store.get_record(client_id)).record == erased.record
    with pytest.raises(VersionConflict):
        await store.update_status(
            client_id, Status.CONTACTED, erased.version, _entry("s", client_id)
        )
    with pytest.raises(VersionConflict):
        await store.update_status(
            client_id, Status.CONTACTED, before.version, _entry("s", client_id)
        )


async def test_a_database_from_before_the_new_columns_is_upgraded_on_open(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE submissions (client_id TEXT PRIMARY KEY, submitted_at TEXT NOT NULL,"
            " status TEXT NOT NULL, industry TEXT NOT NULL, service_type TEXT NOT NULL,"
            " search_text TEXT NOT NULL, document TEXT NOT NULL)"
        )
    connection.close()
    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        client_id = (await _save(store)).client_id
        assert (await store.get_record(client_id)).version == "1"
        assert (await store.erase(client_id, _entry("e", client_id))).erased
    finally:
        await store.close()
