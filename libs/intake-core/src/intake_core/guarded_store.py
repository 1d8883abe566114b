"""The store behind its circuit breaker, for the calls a request waits on (intake-api, admin-api).

When the store keeps failing (locked, unreachable, throttled past the SDK's own retries), every
request would still wait out its timeout before answering 503. After ``failures`` such errors in
a row the breaker opens: requests get 503 with ``Retry-After`` at once, readiness reports it so
monitors see it, and after ``reset_seconds`` one trial call decides whether to close again.
Only ``StoreUnavailable`` counts; a client's own mistakes (an idempotency conflict, an unknown
consent version) say nothing about the store's health.

:class:`GuardedIntakeStore` (intake-api) and :class:`GuardedStaffStore` (admin-api) put each
call of the role their service uses through the breaker. The notifier guards a message's whole
handling instead (see ``intake_notify.worker``), and the outbox relay goes round it: it has its
own backoff and never gives up. Neither closes the store: whoever opened it closes it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from intake_core.breakers import Breaker
from intake_core.domain.audit import AuditChainReport, AuditEntry
from intake_core.domain.erasure import RecordedErasure
from intake_core.domain.events import CloudEvent
from intake_core.domain.figures import SubmissionFigures
from intake_core.domain.models import Status, Submission
from intake_core.ports.intake import Idempotency, IntakeStore, SaveResult
from intake_core.ports.outbox import OutboxItem, OutboxStats, PurgedItems
from intake_core.ports.staff import HitPage, SearchQuery, StaffSubmissionStore, StoredRecord
from intake_core.ports.store import StoreUnavailable


def store_breaker(failures: int = 5, reset_seconds: float = 15.0) -> Breaker:
    """While open it raises ``StoreUnavailable``, which the APIs answer with 503."""
    return Breaker(
        "store", failures, reset_seconds, counts=(StoreUnavailable,), refused=StoreUnavailable
    )


class GuardedIntakeStore:
    """An :class:`IntakeStore` whose every call goes through ``breaker``."""

    def __init__(self, store: IntakeStore, breaker: Breaker) -> None:
        self._store = store
        self._breaker = breaker

    async def save_new(
        self,
        submission: Submission,
        event: CloudEvent,
        audit: AuditEntry,
        idempotency: Idempotency | None = None,
    ) -> SaveResult:
        with self._breaker.guarding():
            return await self._store.save_new(submission, event, audit, idempotency)

    async def get(self, client_id: str) -> Submission | None:
        with self._breaker.guarding():
            return await self._store.get(client_id)

    async def ping(self) -> None:
        with self._breaker.guarding():
            await self._store.ping()

    async def claim_outbox(
        self, owner: str, limit: int, lease_seconds: float, *, min_age_seconds: float = 0.0
    ) -> list[OutboxItem]:
        with self._breaker.guarding():
            return await self._store.claim_outbox(
                owner, limit, lease_seconds, min_age_seconds=min_age_seconds
            )

    async def mark_published(self, event_id: str) -> None:
        with self._breaker.guarding():
            await self._store.mark_published(event_id)

    async def mark_published_batch(self, event_ids: Collection[str]) -> None:
        with self._breaker.guarding():
            await self._store.mark_published_batch(event_ids)

    async def release_outbox(self, event_id: str, retry_in_seconds: float) -> None:
        with self._breaker.guarding():
            await self._store.release_outbox(event_id, retry_in_seconds)

    async def outbox_stats(self) -> OutboxStats:
        with self._breaker.guarding():
            return await self._store.outbox_stats()

    async def purge_expired(self, now: datetime) -> PurgedItems:
        with self._breaker.guarding():
            return await self._store.purge_expired(now)


class GuardedStaffStore:
    """A :class:`StaffSubmissionStore` whose every call goes through ``breaker``."""

    def __init__(self, store: StaffSubmissionStore, breaker: Breaker) -> None:
        self._store = store
        self._breaker = breaker

    async def search_hits(self, query: SearchQuery) -> HitPage:
        with self._breaker.guarding():
            return await self._store.search_hits(query)

    async def append_audit(self, entry: AuditEntry) -> None:
        with self._breaker.guarding():
            await self._store.append_audit(entry)

    async def audit_trail(self, client_id: str) -> list[AuditEntry]:
        with self._breaker.guarding():
            return await self._store.audit_trail(client_id)

    async def get_record(self, client_id: str) -> StoredRecord | None:
        with self._breaker.guarding():
            return await self._store.get_record(client_id)

    async def update_status(
        self, client_id: str, new_status: Status, expected_version: str, audit: AuditEntry
    ) -> StoredRecord:
        with self._breaker.guarding():
            return await self._store.update_status(client_id, new_status, expected_version, audit)

    async def erase(self, client_id: str, audit: AuditEntry) -> StoredRecord:
        with self._breaker.guarding():
            return await self._store.erase(client_id, audit)

    async def forget_erased_remnants(self) -> None:
        with self._breaker.guarding():
            await self._store.forget_erased_remnants()

    async def erasures_since(self, since: datetime) -> list[RecordedErasure]:
        with self._breaker.guarding():
            return await self._store.erasures_since(since)

    async def expired_records(self, submitted_before: datetime, limit: int) -> list[str]:
        with self._breaker.guarding():
            return await self._store.expired_records(submitted_before, limit)

    async def submission_figures(self, first_day: date, last_day: date) -> SubmissionFigures:
        with self._breaker.guarding():
            return await self._store.submission_figures(first_day, last_day)

    async def verify_audit_chain(self) -> AuditChainReport:
        with self._breaker.guarding():
            return await self._store.verify_audit_chain()

    async def ping(self) -> None:
        with self._breaker.guarding():
            await self._store.ping()
