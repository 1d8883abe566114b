"""The audit trail's vocabulary: what happened to a record, or what staff did.

Every service writes entries with these actions, and the dashboard labels them in words. The
values are stored in each entry (and hashed into its chain): an action's value never changes;
a new kind of event gets a new member.
"""

from __future__ import annotations

from enum import StrEnum


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
