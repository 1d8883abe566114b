"""The sales-team email for a new submission: plain text and HTML, user text escaped."""

from __future__ import annotations

import html
import unicodedata

from intake_core.domain.events import CloudEvent, SubmissionCreatedData
from intake_core.ports import OutgoingEmail

SUBJECT_LIMIT = 120
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def message_id_for(event: CloudEvent) -> str:
    """The same event always yields the same Message-ID, so a resend can be deduplicated."""
    return f"<{event.id}@notify.intake>"


def _header_safe(text: str) -> str:
    """Drop anything that could end or fold a header line; the model refuses these already."""
    cleaned = "".join(
        c for c in text if unicodedata.category(c)[0] != "C" and c not in "\u2028\u2029"
    )
    return cleaned[:SUBJECT_LIMIT]


def _summary(data: SubmissionCreatedData) -> list[tuple[str, str]]:
    return [
        ("Client ID", data.clientId),
        ("Submitted", data.submittedAt.isoformat(timespec="seconds")),
        ("Company", data.companyName),
        ("Industry", data.industry.value),
        ("Employees", str(data.companySize)),
        ("Contact", data.contactName),
        ("Email", data.contactEmail),
        ("Phone", data.contactPhone),
        ("Service", data.serviceType.value),
        ("Timeline", data.timeline.value),
        ("Budget", data.budgetRange.value),
        ("Scope", data.scope),
    ]


def render(
    event: CloudEvent,
    data: SubmissionCreatedData,
    *,
    sender: str,
    recipients: tuple[str, ...],
    dashboard_url: str,
) -> OutgoingEmail:
    rows = _summary(data)
    record_url = f"{dashboard_url.rstrip('/')}/admin/submissions/{data.clientId}"
    text = "\n".join(
        [
            "A new client submitted the onboarding form.",
            "",
            *(f"{label}: {value}" for label, value in rows),
            "",
            f"Open the record: {record_url}",
        ]
    )
    table = "\n".join(
        f"<tr><th align='left'>{html.escape(label)}</th>"
        f"<td style='white-space:pre-wrap'>{html.escape(value)}</td></tr>"
        for label, value in rows
    )
    body = (
        "<!doctype html><html><body>"
        "<p>A new client submitted the onboarding form.</p>"
        f"<table>{table}</table>"
        f"<p><a href='{html.escape(record_url, quote=True)}'>Open the record</a></p>"
        "</body></html>"
    )
    return OutgoingEmail(
        message_id=message_id_for(event),
        sender=sender,
        recipients=recipients,
        subject=_header_safe(f"New client {data.clientId}: {data.companyName}"),
        text=text,
        html=body,
    )
