"""The audit trail's words: who (the token's ``sub``) did what, to which record, when, and in
which request. Details never carry personal data from the record; an erasure's note is staff's
own words, which they are asked to keep free of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from intake_core.domain.audit import AuditAction, AuditEntry


@dataclass(frozen=True)
class StaffRequest:
    """The member of staff behind a request, as the audit trail names them."""

    actor: str
    request_id: str

    def entry(
        self,
        action: AuditAction,
        client_id: str | None = None,
        details: dict[str, str] | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            action=action,
            actor=self.actor,
            at=datetime.now(UTC),
            client_id=client_id,
            details={**(details or {}), "requestId": self.request_id},
        )
