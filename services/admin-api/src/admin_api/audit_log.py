"""The audit trail's words: who (the token's ``sub``) did what, to which record, when, and in
which request. Details never carry personal data from the record; an erasure's note is staff's
own words, which they are asked to keep free of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from intake_core.domain.erasure import ERASE_ACTION
from intake_core.ports import AuditEntry

SEARCH = "submission.search"
READ = "submission.read"
EXPORT = "submission.export"
# One entry in each exported record's own trail, with the export's request id: a record's trail
# (and its subject's copy of it) names everyone who took it out in a CSV file.
EXPORTED = "submission.exported"
STATUS_CHANGE = "submission.status_change"
ERASE = ERASE_ACTION
SUBJECT_EXPORT = "submission.subject_export"
AUDIT_READ = "audit.read"
AUDIT_VERIFY = "audit.verify"
FIGURES_READ = "figures.read"


@dataclass(frozen=True)
class StaffRequest:
    """The member of staff behind a request, as the audit trail names them."""

    actor: str
    request_id: str

    def entry(
        self, action: str, client_id: str | None = None, details: dict[str, str] | None = None
    ) -> AuditEntry:
        return AuditEntry(
            action=action,
            actor=self.actor,
            at=datetime.now(UTC),
            client_id=client_id,
            details={**(details or {}), "requestId": self.request_id},
        )
