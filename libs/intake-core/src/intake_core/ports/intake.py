"""What intake-api needs from the store: taking a client's submission, looking one up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import CloudEvent
from intake_core.domain.models import Submission
from intake_core.ports.outbox import Outbox


class ClientIdTaken(Exception):
    """The generated Client ID already exists (astronomically rare): draw another."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used for a different request body."""


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str


@dataclass(frozen=True)
class SaveResult:
    client_id: str
    submitted_at: datetime
    created: bool


class ClientSubmissionStore(Protocol):
    """What clients' requests need: save a submission with its event and audit entry, read one
    back for a status lookup, and say whether the store answers (readiness)."""

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

    async def get(self, client_id: str) -> Submission | None:
        """The live record; None when there is none or it was erased (a tombstone holds no
        personal data to show, and callers can rely on a whole ``Submission``)."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot serve requests."""
        ...


class IntakeStore(ClientSubmissionStore, Outbox, Protocol):
    """What intake-api holds: the store its routes take submissions with, and the outbox its
    relay and fast path publish their events from."""
