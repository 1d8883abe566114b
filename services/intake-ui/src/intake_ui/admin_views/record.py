"""A record: its details and status form, or the tombstone left once it is erased."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fasthtml import common as fh

from intake_core.auth import Role
from intake_core.domain.audit import AuditAction
from intake_core.domain.erasure import RETENTION_ACTOR
from intake_core.domain.models import (
    ALLOWED_TRANSITIONS,
    ErasedSubmission,
    Industry,
    ServiceType,
    Status,
    Submission,
)
from intake_ui.admin_api import AuditRow
from intake_ui.admin_erasure import reason_words
from intake_ui.admin_filters import STAFF_STATUS_LABELS
from intake_ui.admin_views.frame import status_badge, titled, when
from intake_ui.components import csrf_input
from intake_ui.fields import (
    BUDGET_RANGE_LABELS,
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
    TIMELINE_LABELS,
    country_options,
)
from intake_ui.staff_session import StaffSession


@dataclass(frozen=True)
class RecordLinks:
    dashboard: str
    record: str
    status: str
    audit: str
    erase: str
    subject_export: str


def _facts(*pairs: tuple[str, Any]) -> Any:
    return fh.Dl(*(part for name, value in pairs for part in (fh.Dt(name), fh.Dd(value))))


def _country(code: str) -> str:
    return dict(country_options()).get(code, code)


def status_form(submission: Submission, etag: str, action: str, csrf: str) -> Any:
    allowed = sorted(ALLOWED_TRANSITIONS[submission.status], key=list(Status).index)
    if not allowed:
        return fh.P(
            f"This request is closed ({STAFF_STATUS_LABELS[submission.status]}): "
            "its status cannot change any more.",
            cls="muted",
        )
    return fh.Form(
        csrf_input(csrf),
        fh.Input(type="hidden", name="etag", value=etag),
        fh.Fieldset(
            fh.Legend("Change the status"),
            *(
                fh.Label(
                    fh.Input(
                        type="radio",
                        name="status",
                        value=status.value,
                        id=f"status-{status.value}",
                        required=True,
                    ),
                    f"{STAFF_STATUS_LABELS[status]}",
                    fr=f"status-{status.value}",
                )
                for status in allowed
            ),
        ),
        fh.Div(fh.Button("Change status", type="submit"), cls="actions"),
        method="post",
        enctype="application/x-www-form-urlencoded",
        action=action,
        hx_post=action,
        hx_target="#record",
        hx_swap="outerHTML",
        hx_disabled_elt="find button",
        cls="status-form",
    )


def record(
    found: Submission | ErasedSubmission,
    etag: str,
    staff: StaffSession,
    links: RecordLinks,
    csrf: str,
    *,
    note: Any = None,
    erasure: AuditRow | None = None,
) -> Any:
    if isinstance(found, ErasedSubmission):
        return tombstone(found, staff, links, note=note, erasure=erasure)
    company, contact, work = found.company, found.company.contact, found.engagement
    address = [
        company.address.line1,
        company.address.line2,
        company.address.city,
        company.address.region,
        company.address.postal_code,
        _country(company.address.country),
    ]
    status_part = (
        status_form(found, etag, links.status, csrf)
        if staff.can(Role.MANAGE)
        else fh.P(
            "You can see the status; changing it needs the Submissions.Manage role.", cls="muted"
        )
    )
    return fh.Section(
        fh.P(fh.A("← All submissions", href=links.dashboard)),
        titled(company.name, ", Client ID ", found.client_id),
        note,
        fh.Div(
            fh.Span("Status: "),
            status_badge(found.status),
            " · Submitted ",
            when(found.submitted_at),
            cls="record-meta",
        ),
        fh.Div(
            fh.Article(
                fh.H2("Company"),
                _facts(
                    ("Name", company.name),
                    ("Industry", INDUSTRY_LABELS[company.industry]),
                    ("Employees", f"{company.size:,}"),
                    ("Address", fh.Span(*_lines(part for part in address if part))),
                ),
            ),
            fh.Article(
                fh.H2("Contact"),
                _facts(
                    ("Name", contact.name),
                    ("Email", fh.A(contact.email, href=f"mailto:{contact.email}")),
                    ("Phone", fh.A(contact.phone, href=f"tel:{contact.phone}")),
                ),
            ),
            cls="record-grid",
        ),
        fh.Article(
            fh.H2("Engagement"),
            _facts(
                ("Service", SERVICE_TYPE_LABELS[work.service_type]),
                ("Timeline", TIMELINE_LABELS[work.timeline]),
                ("Budget", BUDGET_RANGE_LABELS[work.budget_range]),
                ("Scope", fh.Div(*_paragraphs(work.scope), cls="user-text")),
                (
                    "Notes",
                    fh.Div(*_paragraphs(work.notes), cls="user-text")
                    if work.notes
                    else fh.Span("No notes given", cls="muted"),
                ),
            ),
        ),
        fh.Article(
            fh.H2("Consent"),
            _facts(
                ("Privacy notice accepted", "Yes" if found.consent.accepted else "No"),
                ("Notice version", found.consent.privacy_notice_version),
            ),
        ),
        fh.Article(fh.H2("Status"), status_part),
        _record_actions(staff, links, erased=False),
        id="record",
    )


def _lines(parts: Iterable[str]) -> list[Any]:
    out: list[Any] = []
    for part in parts:
        if out:
            out.append(fh.Br())
        out.append(part)
    return out


def _paragraphs(text: str | None) -> list[Any]:
    return [fh.P(block) for block in (text or "").split("\n\n") if block.strip()]


def _record_actions(staff: StaffSession, links: RecordLinks, *, erased: bool) -> Any:
    actions = [
        fh.A("Audit trail", href=links.audit, cls="button-link")
        if staff.can(Role.AUDIT_READ)
        else None,
        fh.A(
            "Download subject data (JSON)",
            href=links.subject_export,
            cls="button-link",
            download=True,
        )
        if staff.can(Role.EXPORT) and not erased
        else None,
        fh.A("Erase personal data", href=links.erase, cls="button-link danger")
        if staff.can(Role.ERASE) and not erased
        else None,
    ]
    shown = [action for action in actions if action is not None]
    return fh.Nav(*shown, cls="record-actions", aria_label="Record actions") if shown else None


def first_erasure(entries: list[AuditRow]) -> AuditRow | None:
    """The audit entry of the erasure itself (erasing again later is audited too)."""
    return next((entry for entry in entries if entry.action == AuditAction.ERASE), None)


_REMAINS = "Only this tombstone remains, for the figures and the audit trail."


def _why_erased(found: ErasedSubmission, erasure: AuditRow | None) -> Any:
    """What the trail records, nothing more: the tombstone itself keeps no reason."""
    if erasure is None:
        return fh.P(
            "The personal data of this submission was erased on ",
            when(found.erased_at),
            f". The audit trail records who erased it and why. {_REMAINS}",
        )
    why = reason_words(erasure.details.get("reason"))
    who: tuple[Any, ...] = ("by ", fh.Strong(erasure.actor))
    if erasure.actor == RETENTION_ACTOR:
        who = ("automatically",)
        if (days := erasure.details.get("retentionDays", "")).isdigit():
            why = f"the retention period ({days} days) ended"
    note = erasure.details.get("note")
    return (
        fh.P(
            "The personal data of this submission was erased ",
            *who,
            " on ",
            when(erasure.at),
            f" \u2014 {why}. {_REMAINS}",
            cls="erasure-reason",
        ),
        fh.Div(fh.P(fh.Strong("Note with the erasure: "), note), cls="user-text erasure-note")
        if note
        else None,
    )


def tombstone(
    found: ErasedSubmission,
    staff: StaffSession,
    links: RecordLinks,
    *,
    note: Any = None,
    erasure: AuditRow | None = None,
) -> Any:
    return fh.Section(
        fh.P(fh.A("← All submissions", href=links.dashboard)),
        titled("Erased submission", " ", found.client_id),
        note,
        _why_erased(found, erasure),
        _facts(
            ("Client ID", found.client_id),
            ("Submitted", when(found.submitted_at)),
            ("Erased", when(found.erased_at)),
            ("Status", status_badge(found.status)),
            ("Industry", INDUSTRY_LABELS[Industry(found.industry)]),
            ("Service", SERVICE_TYPE_LABELS[ServiceType(found.service_type)]),
        ),
        _record_actions(staff, links, erased=True),
        id="record",
        cls="tombstone",
    )
