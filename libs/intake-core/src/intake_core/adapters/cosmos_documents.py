"""The documents the Cosmos DB store keeps, and how domain objects map onto them.

Container ``submissions`` (partition key ``/clientId``) holds, per Client ID, in one logical
partition: the submission (``type`` ``submission``, or ``tombstone`` once erased, id = Client
ID), its outbox events (``outbox``, id = event id), its audit entries (``audit``, id
``audit-<seq>``) and the head of its audit chain (``auditHead``). Sharing the partition is what
lets one transactional batch write them together. Staff actions on no record (a search) are
audited in one partition per UTC day, ``audit:YYYY-MM-DD``, which no Client ID can equal.

The submission document is the camelCase ``Submission`` plus copies the queries need at the top
level (``industry``, ``serviceType``, ``searchText``), with ``submittedAt`` as fixed-width UTC
text so it sorts and compares as a string.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from intake_core.domain.audit import AuditEntry, audit_chain_hash
from intake_core.domain.events import CloudEvent
from intake_core.domain.models import ErasedSubmission, Submission
from intake_core.domain.stored import STORED
from intake_core.domain.utc import utc_text
from intake_core.ports.intake import Idempotency

SUBMISSION = "submission"
TOMBSTONE = "tombstone"
OUTBOX = "outbox"
AUDIT = "audit"
AUDIT_HEAD = "auditHead"
AUDIT_HEAD_ID = "audit-head"

# What Cosmos DB adds to every document; never part of what we write back.
_SYSTEM_FIELDS = frozenset({"_rid", "_self", "_etag", "_attachments", "_ts"})
_QUERY_COPIES = frozenset({"id", "type", "industry", "serviceType", "searchText", "idempotencyKey"})
# Cosmos DB ids may not hold these characters, and are at most 255 characters long.
_FORBIDDEN_IN_ID = frozenset("/\\?#")
MAX_ID_LENGTH = 255


def is_document_id(value: str) -> bool:
    """Whether ``value`` can name a document (anything else cannot exist, so is not found)."""
    return 0 < len(value) <= MAX_ID_LENGTH and not _FORBIDDEN_IN_ID.intersection(value)


def stored(document: dict[str, Any]) -> dict[str, Any]:
    """A document as read, without the fields Cosmos DB manages itself."""
    return {name: value for name, value in document.items() if name not in _SYSTEM_FIELDS}


def search_text(submission: Submission) -> str:
    """What ``q`` matches, case-folded (so ``STRASSE`` finds ``Straße``, which LOWER cannot)."""
    company = submission.company
    parts = (submission.client_id, company.name, company.contact.name, company.contact.email)
    return "\n".join(parts).casefold()


def key_hash(text: str) -> str:
    """Idempotency keys and handler names are client- or code-chosen text: hashed, they are
    always a valid id, and the raw key is never stored."""
    return hashlib.sha256(text.encode()).hexdigest()


def submission_document(submission: Submission, idempotency_key: str | None) -> dict[str, Any]:
    document: dict[str, Any] = submission.model_dump(mode="json", by_alias=True, exclude_none=True)
    document.update(
        id=submission.client_id,
        type=SUBMISSION,
        submittedAt=utc_text(submission.submitted_at),
        industry=submission.company.industry.value,
        serviceType=submission.engagement.service_type.value,
        searchText=search_text(submission),
    )
    if idempotency_key is not None:
        document["idempotencyKey"] = idempotency_key
    return document


def tombstone_document(document: dict[str, Any], erased_at: datetime) -> dict[str, Any]:
    """The erased form of a submission document: no personal data, no search text. The hashed
    idempotency key stays (it is not personal data) so that erasing again can retry deleting
    the idempotency record if the first erasure stopped before it."""
    tombstone = ErasedSubmission.of(read_submission(document), erased_at=erased_at)
    replacement: dict[str, Any] = tombstone.model_dump(mode="json", by_alias=True)
    replacement.update(
        id=document["id"],
        type=TOMBSTONE,
        submittedAt=document["submittedAt"],
        erasedAt=utc_text(erased_at),
    )
    if "idempotencyKey" in document:
        replacement["idempotencyKey"] = document["idempotencyKey"]
    return replacement


def read_submission(document: dict[str, Any]) -> Submission:
    fields = {name: value for name, value in stored(document).items() if name not in _QUERY_COPIES}
    return Submission.model_validate(fields, context=STORED)


def read_record(document: dict[str, Any]) -> Submission | ErasedSubmission:
    if document.get("type") == TOMBSTONE:
        fields = {
            name: value
            for name, value in stored(document).items()
            if name not in {"id", "type", "idempotencyKey"}
        }
        return ErasedSubmission.model_validate(fields, context=STORED)
    return read_submission(document)


def outbox_document(
    event: CloudEvent, client_id: str, created_at: datetime, now: float
) -> dict[str, Any]:
    return {
        "id": event.id,
        "clientId": client_id,
        "type": OUTBOX,
        "event": event.to_json(),
        "createdAt": utc_text(created_at),
        "availableAt": now,
        "attempts": 0,
    }


def idempotency_document(idempotency: Idempotency, submission: Submission) -> dict[str, Any]:
    key = key_hash(idempotency.key)
    return {
        "id": key,
        "key": key,
        "fingerprint": idempotency.fingerprint,
        "clientId": submission.client_id,
        "submittedAt": utc_text(submission.submitted_at),
    }


def audit_partition(entry: AuditEntry) -> str:
    """The partition an entry is chained in: its record's, or the day's for staff actions."""
    if entry.client_id is not None:
        return entry.client_id
    return f"audit:{entry.at.astimezone(UTC):%Y-%m-%d}"


def audit_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": utc_text(entry.at),
        "action": entry.action,
        "actor": entry.actor,
        "clientId": entry.client_id,
        "details": dict(entry.details),
    }


def read_audit_entry(document: dict[str, Any]) -> AuditEntry:
    fields = document["entry"]
    return AuditEntry(
        action=fields["action"],
        actor=fields["actor"],
        at=datetime.fromisoformat(fields["at"]),
        client_id=fields["clientId"],
        details=dict(fields["details"]),
    )


def audit_link(
    partition: str, sequence: int, prev_hash: str, entry: AuditEntry
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entry's document and the chain head that points at it."""
    document: dict[str, Any] = {
        "id": f"audit-{sequence:012d}",
        "clientId": partition,
        "type": AUDIT,
        "seq": sequence,
        "entry": audit_fields(entry),
        "prevHash": prev_hash,
    }
    # Hash what a reader will get back (timestamps as stored), so verifying compares like
    # with like.
    document["hash"] = audit_chain_hash(prev_hash, sequence, read_audit_entry(document))
    head = {
        "id": AUDIT_HEAD_ID,
        "clientId": partition,
        "type": AUDIT_HEAD,
        "seq": sequence,
        "hash": document["hash"],
    }
    return document, head


def event_of(document: dict[str, Any]) -> CloudEvent:
    return CloudEvent.from_json(document["event"])
