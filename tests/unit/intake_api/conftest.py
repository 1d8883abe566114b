"""Shared data and real embedded adapters for intake-api unit tests."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import CloudEvent, submission_created
from intake_core.domain.models import Submission, SubmissionCreate
from support import VALID_BODY


@pytest.fixture
def valid_body() -> dict[str, Any]:
    return copy.deepcopy(VALID_BODY)


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[SqliteSubmissionStore]:
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def queue(tmp_path) -> AsyncIterator[LocalQueue]:
    queue = LocalQueue(tmp_path / "queue.db")
    await queue.open()
    yield queue
    await queue.close()


@pytest.fixture
def save_submission(
    store: SqliteSubmissionStore,
) -> Callable[[], Any]:
    """Saves one valid submission the way intake-api does (its request's ``traceparent``
    given or none); returns its event."""

    async def save(traceparent: str | None = None) -> CloudEvent:
        now = datetime.now(UTC)
        content = SubmissionCreate.model_validate(VALID_BODY)
        submission = Submission(
            client_id=new_client_id(),
            submitted_at=now,
            company=content.company,
            engagement=content.engagement,
            consent=content.consent,
        )
        event = submission_created(submission, traceparent)
        audit = AuditEntry("submission.created", "client", now, submission.client_id)
        await store.save_new(submission, event, audit)
        return event

    return save
