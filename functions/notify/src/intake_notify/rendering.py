"""The sales-team email for a new submission: plain text and HTML, user text escaped.

It reads as the form did: the codes' labels, the time in UTC, the phone written internationally.
"""

from __future__ import annotations

import html
import unicodedata
from datetime import UTC, datetime

import phonenumbers

from intake_core.domain.events import CloudEvent, SubmissionCreatedData
from intake_core.domain.labels import (
    BUDGET_RANGE_LABELS,
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
    TIMELINE_LABELS,
)
from intake_core.ports.mail import OutgoingEmail

SUBJECT_LIMIT = 120
# Controls, format characters, surrogates, private use, unassigned, and the line and paragraph
# separators: anything a mail client might take as the end of a header line or hide.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Spelled out rather than %b, which follows the process's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def message_id_for(event: CloudEvent) -> str:
    """The same event always yields the same Message-ID, so a resend can be deduplicated."""
    return f"<{event.id}@notify.intake>"


def _header_safe(text: str) -> str:
    """Drop anything that could end or fold a header line.

    The submission model refuses these already, but the notifier takes whatever event the bus
    holds: a replayed, hand-made or older publisher's event is not checked again.
    """
    cleaned = "".join(c for c in text if unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    return cleaned[:SUBJECT_LIMIT]


def _readable_time(moment: datetime) -> str:
    """27 Nov 2026, 14:05 UTC: one time zone for a sales team that may sit in several."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{utc.day} {_MONTHS[utc.month - 1]} {utc.year}, {utc:%H:%M} UTC"


def _readable_phone(number: str) -> str:
    """+44 20 7946 0958 for the stored +442079460958; one that does not parse is shown as is."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _summary(data: SubmissionCreatedData) -> list[tuple[str, str]]:
    return [
        ("Client ID", data.client_id),
        ("Submitted", _readable_time(data.submitted_at)),
        ("Company", data.company_name),
        ("Industry", INDUSTRY_LABELS[data.industry]),
        ("Employees", str(data.company_size)),
        ("Contact", data.contact_name),
        ("Email", data.contact_email),
        ("Phone", _readable_phone(data.contact_phone)),
        ("Service", SERVICE_TYPE_LABELS[data.service_type]),
        ("Timeline", TIMELINE_LABELS[data.timeline]),
        ("Budget", BUDGET_RANGE_LABELS[data.budget_range]),
        ("Scope", data.scope),
    ]


def _text_line(label: str, value: str) -> str:
    """``Label: value``; text over several lines goes below its label, each line quoted, so what
    a client typed there cannot pass for a line of ours (a second "Open the record" link, say)."""
    if "\n" not in value:
        return f"{label}: {value}"
    return "\n".join([f"{label}:", *(f"> {line}" for line in value.split("\n"))])


def render(
    event: CloudEvent,
    data: SubmissionCreatedData,
    *,
    sender: str,
    recipients: tuple[str, ...],
    dashboard_url: str,
) -> OutgoingEmail:
    rows = _summary(data)
    record_url = f"{dashboard_url.rstrip('/')}/admin/submissions/{data.client_id}"
    # The link comes before anything the client typed.
    text = "\n".join(
        [
            "A new client submitted the onboarding form.",
            f"Open the record: {record_url}",
            "",
            *(_text_line(label, value) for label, value in rows),
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
        f"<p><a href='{html.escape(record_url, quote=True)}'>Open the record</a></p>"
        f"<table>{table}</table>"
        "</body></html>"
    )
    return OutgoingEmail(
        message_id=message_id_for(event),
        sender=sender,
        recipients=recipients,
        subject=_header_safe(f"New client {data.client_id}: {data.company_name}"),
        text=text,
        html=body,
    )
