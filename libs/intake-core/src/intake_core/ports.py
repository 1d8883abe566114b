"""Ports: what the services need from the outside world, independent of Azure or SQLite.

Every port has an embedded adapter (runs on a laptop) and an Azure adapter (production).
The contract tests in ``tests/contract`` run one suite per port against every adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from intake_core.domain.audit import AuditChainReport, AuditEntry
from intake_core.domain.erasure import RecordedErasure
from intake_core.domain.events import CloudEvent
from intake_core.domain.figures import SubmissionFigures
from intake_core.domain.models import (
    ErasedSubmission,
    Industry,
    ServiceType,
    Status,
    Submission,
)


class StoreUnavailable(Exception):
    """The store cannot be reached; the caller should answer 503 and keep the data."""


class ClientIdTaken(Exception):
    """The generated Client ID already exists (astronomically rare): draw another."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used for a different request body."""


class SubmissionNotFound(Exception):
    """No record has this Client ID."""


class VersionConflict(Exception):
    """The record changed since the caller read it: its version no longer matches."""


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str


@dataclass(frozen=True)
class SaveResult:
    client_id: str
    submitted_at: datetime
    created: bool


@dataclass(frozen=True)
class OutboxItem:
    event: CloudEvent
    attempts: int


# How long an outbox event is kept once published (its payload repeats the contact details,
# see docs/privacy.md): Cosmos DB expires it by ``ttl``; the embedded store is purged of it
# (:meth:`SubmissionStore.purge_expired`).
PUBLISHED_EVENT_TTL_SECONDS = 7 * 24 * 3600
# How long an Idempotency-Key is remembered after its first use (its fingerprint could confirm a
# guessed body, see docs/privacy.md); the same as ``idempotencyTtlDays`` in infra/bicep/main.bicep,
# the idempotency container's TTL. Cosmos DB expires the key; the embedded store is purged of it.
# A retry after that is a new submission.
IDEMPOTENCY_KEY_TTL_SECONDS = 7 * 24 * 3600
# How long the notify ledger remembers a handled event; the same as ``ledgerTtlDays`` in
# infra/bicep/main.bicep. Cosmos DB expires the entry; the embedded ledger is purged of it
# (:meth:`SubmissionStore.purge_expired_ledger`). Safe, since no message comes back that late:
# Service Bus drops one 14 days after it was sent (the queue's message TTL in the Bicep), and the
# local queue redelivers within its lock (an hour at most) and at most 100 times. (A dead letter
# replayed by hand after 30 days could be emailed again, as in Cosmos DB.)
LEDGER_TTL_SECONDS = 30 * 24 * 3600
# How old a dead letter may grow before it is purged (``intake dlq purge``, and the retention job
# after its erasures), counted from its event's time, the submission's: the ledger's lifetime.
# Its event was handled, if ever, after that time, so while it may be replayed its ledger entry
# is still there and a replay cannot email twice; and Service Bus keeps dead letters for ever,
# with the body's contact details. Also the most a purge may be told to keep them.
DEAD_LETTER_MAX_AGE_DAYS = LEDGER_TTL_SECONDS // (24 * 3600)


@dataclass(frozen=True)
class PurgedItems:
    """What one :meth:`SubmissionStore.purge_expired` deleted, by kind."""

    outbox_events: int = 0
    idempotency_keys: int = 0


@dataclass(frozen=True)
class OutboxStats:
    """The outbox's unpublished events at one moment: how many, and when the oldest was written.

    The oldest event's age is what the freshness of emails depends on: a backlog that stays
    small but never moves is as bad as a large one.
    """

    backlog: int
    oldest_created_at: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float:
        """How long the oldest unpublished event has waited; 0 when nothing waits."""
        if self.oldest_created_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_created_at).total_seconds())


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
class SearchPage:
    items: list[Submission]
    continuation_token: str | None


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


class SubmissionStore(Protocol):
    """Submissions, their outbox, the audit trail, idempotency keys and the notify ledger."""

    async def save_new(
        self,
        submission: Submission,
        event: CloudEvent,
        audit: AuditEntry,
        idempotency: Idempotency | None = None,
    ) -> SaveResult:
        """Write submission, outbox event and audit entry in one transaction.

        With ``idempotency``: a repeated key and fingerprint returns the first result
        (``created=False``) and writes nothing; a repeated key with another fingerprint
        raises :class:`IdempotencyConflict`. A taken Client ID raises :class:`ClientIdTaken`.
        """
        ...

    async def get(self, client_id: str) -> Submission | None: ...

    async def exists(self, client_id: str) -> bool:
        """Whether :meth:`get` would find the record, without reading it back."""
        ...

    async def search(self, query: SearchQuery) -> SearchPage: ...

    async def search_hits(self, query: SearchQuery) -> HitPage:
        """The same page as :meth:`search` (same rows, same continuation token), summarised."""
        ...

    async def append_audit(self, entry: AuditEntry) -> None: ...

    async def audit_trail(self, client_id: str) -> list[AuditEntry]: ...

    async def claim_outbox(
        self, owner: str, limit: int, lease_seconds: float, *, min_age_seconds: float = 0.0
    ) -> list[OutboxItem]:
        """Lease unsent events to ``owner`` so concurrent relays never publish the same one
        at the same time (a lease expires, so a crashed relay's events are picked up again).
        Only events saved at least ``min_age_seconds`` ago are claimed."""
        ...

    async def mark_published(self, event_id: str) -> None: ...

    async def mark_published_batch(self, event_ids: Collection[str]) -> None:
        """:meth:`mark_published` for several events at once (one write where the store can)."""
        ...

    async def release_outbox(self, event_id: str, retry_in_seconds: float) -> None:
        """Publishing failed: make the event claimable again after a backoff."""
        ...

    async def outbox_stats(self) -> OutboxStats:
        """How many events wait to be published, and since when the oldest waits."""
        ...

    async def purge_expired(self, now: datetime) -> PurgedItems:
        """Delete what Cosmos DB's TTL would have deleted by ``now``: the outbox events published
        more than :data:`PUBLISHED_EVENT_TTL_SECONDS` before (never an unpublished one: it is
        still owed a publish) and the Idempotency-Keys first used more than
        :data:`IDEMPOTENCY_KEY_TTL_SECONDS` before. A store that expires them itself deletes
        nothing here."""
        ...

    async def record_handled(self, event_id: str, handler: str) -> bool:
        """Remember that ``handler`` finished ``event_id``; False when it already had."""
        ...

    async def was_handled(self, event_id: str, handler: str) -> bool: ...

    async def purge_expired_ledger(self, now: datetime) -> int:
        """Delete the ledger entries handled more than :data:`LEDGER_TTL_SECONDS` before ``now``,
        as Cosmos DB's TTL would have; returns how many went. Only the notifier, which keeps the
        ledger, calls it. A store that expires them itself deletes nothing here."""
        ...

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` when the store cannot serve requests."""
        ...

    async def close(self) -> None: ...


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


class StaffSubmissionStore(SubmissionStore, Protocol):
    """What staff tools need on top of :class:`SubmissionStore`: versioned reads, status changes
    and erasure, each change written together with its audit entry in one transaction.

    ``get`` and ``search`` of the base port never return erased records: a tombstone holds no
    personal data to show or match, and callers of ``get`` can rely on a whole ``Submission``.
    """

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


@dataclass(frozen=True)
class Delivery:
    """One delivery of a message; ``lock_token`` settles it.

    ``delivery_count`` says which delivery this is, counting from 1: 1 the first time, and one
    more after each abandon or expired lock. Compared with the queue's max delivery count, it
    tells the consumer when a delivery is the last one the queue allows.
    """

    message_id: str
    body: str
    delivery_count: int
    lock_token: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    """A message in the dead-letter queue; ``delivery_count`` is how many times it was
    delivered before it was listed, ``enqueued_at`` when the queue took it (a Service Bus
    replay sends a copy, which the queue takes anew; the embedded queue keeps the first time)."""

    message_id: str
    body: str
    reason: str
    description: str
    delivery_count: int
    enqueued_at: datetime


class DeadLetterQueue(Protocol):
    """The dead-letter queue of the notifier's queue, for operators and the retention job."""

    async def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter; each stays where it is."""
        ...

    async def replay_dead_letters(self) -> int:
        """Move every dead letter back to the queue, with a fresh delivery count."""
        ...

    async def purge_dead_letters(
        self, doomed: Callable[[DeadLetter], Awaitable[bool]]
    ) -> list[DeadLetter]:
        """Ask ``doomed`` about each dead letter once and remove each it answers True for, at
        once; returns the ones removed. Every other one is back in the dead-letter queue, as it
        was (listable, replayable), when this returns or raises (``doomed`` raising stops the
        pass; those removed before stay removed). One replayed meanwhile is not removed."""
        ...

    async def close(self) -> None: ...


class SubjectQueue(Protocol):
    """A queue that can drop every message about one data subject (the CloudEvent ``subject``,
    a Client ID), for an erasure. The embedded queue can; Service Bus cannot delete messages it
    has not delivered, so there the notifier skips events of erased records instead."""

    async def purge_subject(self, subject: str) -> int:
        """Delete the subject's messages, dead letters included; returns how many went."""
        ...


class EventPublisher(Protocol):
    async def publish(self, event: CloudEvent) -> None:
        """Send ``event``; its id is the message id, so the bus can drop duplicates."""
        ...

    async def publish_batch(self, events: Sequence[CloudEvent]) -> None:
        """Send ``events`` in as few round trips as the bus allows. When this raises, some may
        have gone: sending them again is safe, since the bus drops repeated ids."""
        ...

    async def ping(self) -> None:
        """Raise when the bus cannot take messages (readiness)."""
        ...

    async def close(self) -> None: ...


class EventConsumer(Protocol):
    async def receive(self, max_messages: int, wait_seconds: float) -> list[Delivery]: ...

    async def complete(self, delivery: Delivery) -> None: ...

    async def abandon(self, delivery: Delivery) -> None: ...

    async def dead_letter(self, delivery: Delivery, reason: str, description: str) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered email. Headers come from configuration and ids, never from raw user input."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> None: ...


class CacheUnavailable(Exception):
    """The cache cannot be reached. Reads go to the store instead; a change whose cached copy
    could not be dropped must say so, because the copy would outlive the change."""


class ReadCache(Protocol):
    """Short-lived copies of what is read often, shared by every replica when it is Redis.

    Values are bytes (encode JSON yourself) and always expire: ``set`` needs a TTL, and
    nothing extends it. Keys are plain strings; callers namespace them (``admin:record:…``).
    Adapters raise :class:`CacheUnavailable` for any failure of the cache itself.
    """

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, *keys: str) -> None:
        """Drop the keys (missing ones are fine) before answering."""
        ...

    async def ping(self) -> None:
        """Raise :class:`CacheUnavailable` when the cache cannot serve requests."""
        ...

    async def close(self) -> None: ...
