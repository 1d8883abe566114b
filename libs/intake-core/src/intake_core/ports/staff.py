"""What staff tools need from the store: search, versioned reads, status changes, erasure,
the audit trail and the dashboard's figures (admin-api, and the retention, restore and
dead-letter jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from intake_core.domain.audit import AuditChainReport, AuditEntry
from intake_core.domain.erasure import RecordedErasure
from intake_core.domain.figures import SubmissionFigures
from intake_core.domain.models import (
    ErasedSubmission,
    Industry,
    ServiceType,
    Status,
    Submission,
)


class SubmissionNotFound(Exception):
    """No record has this Client ID."""


class VersionConflict(Exception):
    """The record changed since the caller read it: its version no longer matches."""


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    industry: Industry | None = None
    service_type: ServiceType | None = None
    status: Status | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    limit: int = 25
    continuation_token: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """One search result as a list shows it: identity, classification and contact."""

    client_id: str
    submitted_at: datetime
    status: Status
    industry: Industry
    service_type: ServiceType
    company_name: str
    contact_name: str
    contact_email: str

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> SearchHit:
        """Picked from a stored submission document (the record's camelCase JSON), which the
        store validated when it wrote it: no model is built, so a page of hits costs a JSON
        parse per row instead of a full validation."""
        company, engagement = document["company"], document["engagement"]
        return cls(
            client_id=document["clientId"],
            submitted_at=datetime.fromisoformat(document["submittedAt"]),
            status=Status(document["status"]),
            industry=Industry(company["industry"]),
            service_type=ServiceType(engagement["serviceType"]),
            company_name=company["name"],
            contact_name=company["contact"]["name"],
            contact_email=company["contact"]["email"],
        )


@dataclass(frozen=True)
class HitPage:
    items: list[SearchHit]
    continuation_token: str | None


@dataclass(frozen=True)
class StoredRecord:
    """A record as staff see it, live or erased, with its version for optimistic concurrency.

    ``version`` is opaque (a counter in SQLite, the ``_etag`` in Cosmos): compare, never parse it.
    Every change to the record (status change, erasure) gives it a new version.
    """

    record: Submission | ErasedSubmission
    version: str

    @property
    def erased(self) -> bool:
        return isinstance(self.record, ErasedSubmission)


class StaffSubmissionStore(Protocol):
    """What staff tools need: search, versioned reads, status changes and erasure, each change
    written together with its audit entry in one transaction, the audit trail and the figures.

    A search never matches an erased record: a tombstone holds no personal data to match.
    """

    async def search_hits(self, query: SearchQuery) -> HitPage:
        """A page of the live records ``query`` matches, newest first, each as a list shows
        it; the page's ``continuation_token`` continues after it."""
        ...

    async def append_audit(self, entry: AuditEntry) -> None: ...

    async def audit_trail(self, client_id: str) -> list[AuditEntry]: ...

    async def get_record(self, client_id: str) -> StoredRecord | None:
        """The record (or its tombstone) and its current version."""
        ...

    async def update_status(
        self, client_id: str, new_status: Status, expected_version: str, audit: AuditEntry
    ) -> StoredRecord:
        """Set the status if the record is live and still at ``expected_version``.

        Raises :class:`SubmissionNotFound` or :class:`VersionConflict` (stale version, or the
        record was erased meanwhile). Whether the transition is allowed is the caller's rule
        (``can_transition``), checked against the version it read.
        """
        ...

    async def erase(self, client_id: str, audit: AuditEntry) -> StoredRecord:
        """Replace the record's personal data with a tombstone dated ``audit.at``, and remove it
        from the search index, the outbox and the idempotency keys, in one transaction with
        ``audit``. Erasing an erased record changes nothing but still appends ``audit``.
        Raises :class:`SubmissionNotFound`."""
        ...

    async def forget_erased_remnants(self) -> None:
        """Rewrite what erasures leave behind in storage the engine keeps on its own (search
        index segments, the write-ahead log), so erased data is gone from disk, not only from
        queries. Slow on a large store: call it after erasing, not inside a loop."""
        ...

    async def erasures_since(self, since: datetime) -> list[RecordedErasure]:
        """Every erasure the audit trail records at or after ``since``, oldest first, repeats
        of an erasure included: what a copy of the store restored to ``since`` has lost and
        must erase again (a restore brings the records back and drops these entries), and the
        recent erasures a retention run finishes."""
        ...

    async def expired_records(self, submitted_before: datetime, limit: int) -> list[str]:
        """Client IDs of live (not erased) records submitted before ``submitted_before``,
        oldest first: what a retention run erases next."""
        ...

    async def submission_figures(self, first_day: date, last_day: date) -> SubmissionFigures:
        """Counts of the records submitted from ``first_day`` to ``last_day`` (UTC days, both
        included), erased ones too, computed by the store: rows are counted where they are,
        never loaded as records, and memory stays bounded by days, statuses and service types."""
        ...

    async def verify_audit_chain(self) -> AuditChainReport:
        """Check every audit entry's hash and link: a changed, deleted or inserted entry
        breaks the chain at that entry. SQLite chains the whole trail (its writer lock orders
        the entries); a Cosmos adapter chains per partition or builds the chain from the
        change feed, because concurrent writers there share no lock."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot serve requests."""
        ...
