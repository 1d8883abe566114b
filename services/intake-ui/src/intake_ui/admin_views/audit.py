"""A record's audit trail: each entry's action and details in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fasthtml import common as fh

from intake_core.dead_letter_purge import PurgeReason
from intake_core.domain.audit import AuditAction
from intake_ui.admin_api import AuditRow
from intake_ui.admin_erasure import REASON_WORDS
from intake_ui.admin_filters import STAFF_STATUS_LABELS
from intake_ui.admin_views.frame import titled, when
from intake_ui.fields import (
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
)

# The actions a record's own trail can hold, in words (an unknown one is shown as stored).
AUDIT_ACTIONS: dict[str, str] = {
    AuditAction.CREATED: "Submitted by the client",
    AuditAction.SEARCH: "Searched submissions",
    AuditAction.READ: "Viewed the record",
    AuditAction.EXPORT: "Exported submissions (CSV)",
    AuditAction.EXPORTED: "Included in a CSV export",
    AuditAction.SUBJECT_EXPORT: "Exported the subject's data",
    AuditAction.STATUS_CHANGE: "Changed the status",
    AuditAction.ERASE: "Erased the personal data",
    AuditAction.DEAD_LETTER_PURGED: "Removed its undelivered notification (dead letter)",
    AuditAction.AUDIT_READ: "Viewed the audit trail",
}
# Audit details by readable name, in the order a reader wants them: what changed, what was
# asked, where from; then unknown keys, as stored; the request id (for the logs) always last.
AUDIT_DETAILS = {
    "from": "From",
    "to": "To",
    "reason": "Reason",
    "note": "Note",
    "retentionDays": "Kept for (days)",
    "maxAgeDays": "Dead letters kept for (days)",
    "eventId": "Event ID",
    "qClientId": "Searched for Client ID",
    "qLength": "Search text length",
    "industry": "Industry",
    "serviceType": "Service type",
    "status": "Status",
    "submittedFrom": "Submitted from",
    "submittedTo": "Submitted to",
    "results": "Results",
    "page": "Page",
    "limit": "Page size",
    "days": "Days",
    "intact": "Intact",
    "entries": "Entries",
    "userAgent": "Browser",
    "sourceIpHash": "Source IP (hashed)",
    "requestId": "Request ID",
}
# Why a dead letter of the record was removed (the reason of a dead-letter-purged entry).
DEAD_LETTER_REASON_WORDS: dict[str, str] = {
    PurgeReason.ERASED: "the record is erased",
    PurgeReason.EXPIRED: "too old to replay",
    # Given by purges before a dead letter with no record was kept until it is too old.
    "no-record": "no such record",
}
_DETAIL_VALUES: dict[str, Mapping[str, str]] = {
    "from": {status.value: label for status, label in STAFF_STATUS_LABELS.items()},
    "to": {status.value: label for status, label in STAFF_STATUS_LABELS.items()},
    "status": {status.value: label for status, label in STAFF_STATUS_LABELS.items()},
    "industry": {key.value: label for key, label in INDUSTRY_LABELS.items()},
    "serviceType": {key.value: label for key, label in SERVICE_TYPE_LABELS.items()},
    "reason": {
        code: words[:1].upper() + words[1:]
        for code, words in {**REASON_WORDS, **DEAD_LETTER_REASON_WORDS}.items()
    },
}


def audit_details(details: Mapping[str, str]) -> Any:
    known = [key for key in AUDIT_DETAILS if key in details and key != "requestId"]
    unknown = sorted(key for key in details if key not in AUDIT_DETAILS)
    last = ["requestId"] if "requestId" in details else []
    if not details:
        return "—"
    return fh.Ul(
        *(
            fh.Li(
                fh.Span(f"{AUDIT_DETAILS.get(key, key)}: ", cls="muted"),
                _DETAIL_VALUES.get(key, {}).get(details[key], details[key]),
            )
            for key in [*known, *unknown, *last]
        ),
        cls="detail-list",
    )


def audit_trail(client_id: str, entries: list[AuditRow], back: str) -> Any:
    rows = [
        fh.Tr(
            fh.Td(when(entry.at), data_label="When"),
            fh.Td(entry.actor, data_label="Who"),
            fh.Td(AUDIT_ACTIONS.get(entry.action, entry.action), data_label="What"),
            fh.Td(audit_details(entry.details), data_label="Details", cls="audit-details"),
        )
        for entry in entries
    ]
    return fh.Section(
        fh.P(fh.A(f"← Back to {client_id}", href=back)),
        titled("Audit trail", " of ", client_id),
        fh.Table(
            fh.Caption("Oldest first", cls="visually-hidden"),
            fh.Thead(fh.Tr(*(fh.Th(t, scope="col") for t in ("When", "Who", "What", "Details")))),
            fh.Tbody(*rows),
            cls="records",
        )
        if rows
        else fh.P("Nothing recorded yet."),
    )
