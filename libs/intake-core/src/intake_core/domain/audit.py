"""The audit trail: what happened to a record or what staff did, and the hash chain that
shows when an entry was changed, deleted or slipped in.

Every service writes entries with these actions, and the dashboard labels them in words. The
values are stored in each entry (and hashed into its chain): an action's value never changes;
a new kind of event gets a new member.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from intake_core.domain.utc import utc_text


class AuditAction(StrEnum):
    CREATED = "submission.created"  # the client submitted it (intake-api)
    SEARCH = "submission.search"  # staff listed records; ``details.listed`` names them
    READ = "submission.read"
    EXPORT = "submission.export"  # staff downloaded a CSV (no record named)
    # One entry in each exported record's own trail, with the export's request id: a record's
    # trail (and its subject's copy of it) names everyone who took it out in a CSV file.
    EXPORTED = "submission.exported"
    SUBJECT_EXPORT = "submission.subject_export"
    STATUS_CHANGE = "submission.status_change"
    # Every erasure: by staff, the retention job or a restore alike (the actor tells them apart).
    ERASE = "submission.erase"
    DEAD_LETTER_PURGED = "submission.dead_letter_purged"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    FIGURES_READ = "figures.read"  # the dashboard's figures (no record named)


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which record, when. Never raw PII: hash or omit it."""

    action: str
    actor: str
    at: datetime
    client_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)


# The ``prev_hash`` of the first entry of an audit chain.
AUDIT_GENESIS_HASH = "0" * 64


def audit_chain_hash(prev_hash: str, sequence: int, entry: AuditEntry) -> str:
    """The link of one audit entry: ``sha256(prev_hash + canonical JSON of the entry)``.

    Every store adapter chains its entries this way, so one verifier fits them all. The
    sequence number is part of the entry: renumbering rows to slip one in breaks the chain.
    """
    canonical = json.dumps(
        {
            "seq": sequence,
            "at": utc_text(entry.at),
            "action": entry.action,
            "actor": entry.actor,
            "clientId": entry.client_id,
            "details": entry.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class AuditChainReport:
    """What checking the audit chain found. ``head_hash`` is the hash of the last entry: record
    it somewhere the store's operators cannot write, and a rewrite of the whole chain shows too.
    """

    intact: bool
    entries: int
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None
