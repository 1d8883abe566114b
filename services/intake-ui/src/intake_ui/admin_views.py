"""FT components of the staff dashboard: frame, list, record, status form, audit, erasure.

Pure rendering: routes pass in the data, the URLs and what the staff member may do. FT
components escape every text and attribute, so hostile record content renders as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fasthtml import common as fh
from starlette.requests import Request

from intake_core.auth import Role
from intake_core.dead_letter_purge import PurgeReason
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
from intake_ui import layout
from intake_ui.admin_api import AuditRow, SubmissionList
from intake_ui.admin_erasure import (
    CONFIRM,
    NOTE,
    REASON,
    REASON_CHOICES,
    REASON_WORDS,
    ErasureAnswers,
    reason_words,
)
from intake_ui.admin_filters import (
    FILTER_NAMES,
    PAGE_PARAM,
    STAFF_STATUS_LABELS,
    TEXT,
    DashboardQuery,
)
from intake_ui.components import alert, csrf_input, error_summary, field
from intake_ui.fields import (
    BUDGET_RANGE_LABELS,
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
    TIMELINE_LABELS,
    country_options,
)
from intake_ui.security import csrf_token
from intake_ui.staff_session import StaffSession

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
NOTICES = {
    "status-changed": ("Status changed", "The new status is saved."),
    "erased": ("Personal data erased", "The erasure is done and in the audit trail."),
    "signed-out": ("Signed out", "You have signed out of the staff area."),
    "session-ended": ("Please sign in again", "Your staff session has ended."),
    "search-text-not-taken": (
        "Search text is not taken from links",
        "The address you opened held search text. Addresses stay in browser history and "
        "server logs, so the dashboard no longer reads search text from them and it was not "
        "searched for. Type it into the search box instead. Any other filters in the address "
        "are applied.",
    ),
}
# Notices that are news rather than a confirmation of what the staff member just did.
_INFO_NOTICES = frozenset({"search-text-not-taken"})


@dataclass(frozen=True)
class StaffLinks:
    dashboard: str
    figures: str
    sign_out: str
    mailbox: str | None = None  # the dev mailbox viewer, in dev only


@dataclass(frozen=True)
class RecordLinks:
    dashboard: str
    record: str
    status: str
    audit: str
    erase: str
    subject_export: str


def sign_out_form(req: Request, label: str = "Sign out") -> Any:
    links: StaffLinks = req.app.state.staff_links
    return fh.Form(
        csrf_input(csrf_token(req)),
        fh.Button(label, type="submit", cls="secondary outline"),
        method="post",
        action=links.sign_out,
        cls="sign-out",
        enctype="application/x-www-form-urlencoded",
    )


# The dev mailbox shows contact details, as the dashboard does: it needs the same role.
MAILBOX_ROLE = Role.READ


def staff_frame(content: Any, req: Request) -> Any:
    """``body_wrap`` of every ``/admin`` page: staff navigation instead of the public one."""
    links: StaffLinks = req.app.state.staff_links
    staff: StaffSession | None = req.scope.get("state", {}).get("staff")
    menu: list[Any] = []
    if staff is not None:
        menu = [
            fh.Li(fh.A("Submissions", href=links.dashboard)),
            fh.Li(fh.A("Figures", href=links.figures)),
            fh.Li(fh.A("Mailbox", href=links.mailbox))
            if links.mailbox and staff.can(MAILBOX_ROLE)
            else None,
            fh.Li(sign_out_form(req)),
        ]
    return (
        fh.A("Skip to content", href="#main", cls="skip-link"),
        fh.Header(
            fh.Nav(
                fh.Ul(
                    fh.Li(
                        fh.A(
                            fh.Strong(layout.SITE_NAME),
                            "\u00a0· Staff",
                            href=links.dashboard,
                            cls="brand",
                        )
                    )
                ),
                fh.Ul(*menu),
                aria_label="Staff area",
            ),
            fh.P(f"Signed in as {staff.name}", cls="signed-in") if staff else None,
            cls="container site-header staff-header",
        ),
        # Not main.container: the public pages cap that at a form's width; tables need more.
        fh.Main(fh.Div(content, cls="container"), id="main", cls="staff", tabindex="-1"),
        fh.Footer(
            fh.Small(
                "Staff area. Every search, view, change, export and erasure is recorded "
                "in the audit trail."
            ),
            cls="container site-footer",
        ),
    )


def when(moment: datetime) -> Any:
    return fh.Time(f"{moment:%d %b %Y, %H:%M} UTC", datetime=moment.isoformat())


def long_text(*parts: Any) -> Any:
    """Text in a table cell that may be one long unbroken word (a company name, an email):
    it wraps anywhere inside a bounded width instead of widening the table off the page,
    so every column stays in reach and the full text stays visible and readable."""
    return fh.Div(*parts, cls="cell-text")


def status_badge(status: Status) -> Any:
    return fh.Span(STAFF_STATUS_LABELS[status], cls=f"badge status-{status.value}")


def notice(code: str | None) -> Any:
    if code not in NOTICES:
        return None
    title, message = NOTICES[code]
    return alert(message, title=title, kind="info" if code in _INFO_NOTICES else "success")


def problem(title: str, message: str, *links: tuple[str, str]) -> Any:
    """A failure explained: what happened, what to do, where to go."""
    return fh.Div(
        fh.H2(title),
        fh.P(message),
        fh.Ul(*(fh.Li(fh.A(text, href=href)) for text, href in links)) if links else None,
        cls="alert alert-error",
        role="alert",
        tabindex="-1",
        data_focus="true",
    )


def problem_page(title: str, message: str, ways_on: list[Any]) -> Any:
    """A page that is only a failure: the heading once, then what to do and where to go."""
    return fh.Section(
        fh.H1(title),
        fh.Div(
            fh.P(message),
            fh.Div(*ways_on, cls="problem-ways") if ways_on else None,
            cls="alert alert-error",
            role="alert",
            tabindex="-1",
            data_focus="true",
        ),
        cls="problem-page",
    )


# The list -------------------------------------------------------------------------------


def _choice(name: str, label: str, labels: Mapping[Any, str], value: str, error: str | None) -> Any:
    return _labelled(
        name,
        label,
        fh.Select(
            fh.Option("Any", value="", selected=not value),
            *(
                fh.Option(text, value=key.value, selected=key.value == value)
                for key, text in labels.items()
            ),
            id=f"filter-{name}",
            name=name,
            aria_invalid="true" if error else None,
            aria_describedby=f"filter-{name}-error" if error else None,
        ),
        error,
    )


def _labelled(name: str, label: str, control: Any, error: str | None, hint: str = "") -> Any:
    return fh.Div(
        fh.Label(label, fr=f"filter-{name}"),
        control,
        fh.Small(error, id=f"filter-{name}-error", cls="field-error") if error else None,
        fh.Small(hint, id=f"filter-{name}-hint", cls="hint") if hint else None,
        cls="field",
    )


def filter_form(query: DashboardQuery, action: str, csrf: str) -> Any:
    """The search: sent by POST, so its text stays out of the URL (see ``admin_filters``). With
    htmx the answer swaps the list in place and puts the other filters in the address bar."""
    values, errors = query.values, query.errors

    def date_field(name: str, label: str) -> Any:
        return _labelled(
            name,
            label,
            fh.Input(
                type="date",
                id=f"filter-{name}",
                name=name,
                value=values.get(name, ""),
                aria_invalid="true" if name in errors else None,
                aria_describedby=f"filter-{name}-error" if name in errors else None,
            ),
            errors.get(name),
        )

    return fh.Form(
        csrf_input(csrf),
        _labelled(
            TEXT,
            "Search",
            fh.Input(
                type="search",
                id="filter-q",
                name=TEXT,
                value=values.get(TEXT, ""),
                maxlength=200,
                autocomplete="off",
                aria_describedby="filter-q-error filter-q-hint"
                if TEXT in errors
                else "filter-q-hint",
                aria_invalid="true" if TEXT in errors else None,
            ),
            errors.get(TEXT),
            hint="Company, contact name, contact email or Client ID (five symbols of it or "
            "more, hyphens optional). The text is not kept in the page's address: after a "
            "reload, search again.",
        ),
        fh.Details(
            fh.Summary("Filters"),
            fh.Div(
                _choice(
                    "industry",
                    "Industry",
                    INDUSTRY_LABELS,
                    values.get("industry", ""),
                    errors.get("industry"),
                ),
                _choice(
                    "serviceType",
                    "Service type",
                    SERVICE_TYPE_LABELS,
                    values.get("serviceType", ""),
                    errors.get("serviceType"),
                ),
                _choice(
                    "status",
                    "Status",
                    STAFF_STATUS_LABELS,
                    values.get("status", ""),
                    errors.get("status"),
                ),
                cls="filter-grid",
            ),
            fh.Div(
                date_field("submittedFrom", "Submitted from"),
                date_field("submittedTo", "Submitted to"),
                cls="filter-grid",
            ),
            open=any(query.values.get(name) for name in FILTER_NAMES if name != TEXT)
            or any(name != TEXT for name in errors),
            cls="more-filters",
        ),
        fh.Div(
            fh.A("Clear filters", href=action, cls="button-link") if query.is_filtered else None,
            fh.Button("Search", type="submit"),
            cls="actions",
        ),
        method="post",
        enctype="application/x-www-form-urlencoded",
        action=action,
        aria_label="Search submissions",
        cls="filters",
        hx_post=action,
        hx_target="#dashboard",
        hx_swap="outerHTML",
        hx_disabled_elt="find button",
    )


def search_again(
    label: str,
    action: str,
    query: DashboardQuery,
    csrf: str,
    *,
    token: str | None = None,
    swap: bool = True,
) -> Any:
    """A button that sends the search once more, its text in a POST body: paging through a
    search with text, and downloading it, cannot be links (a link's URL would carry the text).
    ``token`` is the page to show; ``swap=False`` for an answer htmx must not swap in (a file)."""
    fields = {**query.filters, **({PAGE_PARAM: token} if token else {})}
    return fh.Form(
        csrf_input(csrf),
        *(fh.Input(type="hidden", name=name, value=value) for name, value in fields.items()),
        fh.Button(label, type="submit", cls="secondary outline"),
        method="post",
        enctype="application/x-www-form-urlencoded",
        action=action,
        hx_post=action if swap else None,
        hx_target="#dashboard" if swap else None,
        hx_swap="outerHTML" if swap else None,
        hx_disabled_elt="find button" if swap else None,
        cls="search-again",
    )


def results(
    query: DashboardQuery,
    found: SubmissionList,
    *,
    record_url: Callable[[str], str],
    page_url: Callable[[dict[str, str]], str],
    csv_url: Callable[[dict[str, str]], str] | None,
    csrf: str,
    erased: ErasedSubmission | None = None,
) -> Any:
    """``record_url(client_id)``, ``page_url(params)`` and ``csv_url(params)`` build the URLs
    (``csv_url`` None: no export for this staff member). ``erased``: the tombstone of the
    Client ID searched for, when the search found nothing because of it.

    Without search text the pages and the CSV are links, which can be bookmarked; with it they
    are buttons that send it again in a POST body (``search_again``)."""
    rows = [
        fh.Tr(
            fh.Td(
                fh.A(row.client_id, href=record_url(row.client_id), cls="client-id-link"),
                data_label="Client ID",
            ),
            fh.Td(long_text(row.company_name), data_label="Company"),
            fh.Td(
                long_text(row.contact_name, fh.Br(), fh.Small(row.contact_email)),
                data_label="Contact",
            ),
            fh.Td(SERVICE_TYPE_LABELS[row.service_type], data_label="Service"),
            fh.Td(status_badge(row.status), data_label="Status"),
            fh.Td(when(row.submitted_at), data_label="Submitted"),
        )
        for row in found.items
    ]
    headings = ("Client ID", "Company", "Contact", "Service", "Status", "Submitted")
    table = (
        fh.Table(
            fh.Caption("Newest first", cls="visually-hidden"),
            fh.Thead(fh.Tr(*(fh.Th(text, scope="col") for text in headings))),
            fh.Tbody(*rows),
            cls="records submissions",
        )
        if rows
        else erased_note(erased, record_url(erased.client_id))
        if erased
        else fh.P(nothing_found(query))
    )
    token = found.continuation_token
    if query.text:
        action = page_url({})
        pager = [
            search_again("Back to first page", action, query, csrf)
            if query.continuation_token
            else None,
            fh.Div(search_again("Next page", action, query, csrf, token=token), cls="next")
            if token
            else None,
        ]
    else:
        pager = [
            fh.A("Back to first page", href=page_url(query.filters))
            if query.continuation_token
            else None,
            fh.A("Next page", href=page_url({**query.filters, PAGE_PARAM: token}), rel="next")
            if token
            else None,
        ]
    download: Any = None
    if csv_url is not None and query.text:
        download = search_again("Download CSV", csv_url({}), query, csrf, swap=False)
    elif csv_url is not None:
        download = fh.A(
            "Download CSV", href=csv_url(query.filters), download=True, cls="button-link"
        )
    shown = len(found.items)
    return fh.Section(
        fh.Div(fh.H2("Results", id="results-title"), download, cls="results-head"),
        fh.P(
            f"{shown} submission{'s' if shown != 1 else ''} on this "
            f"{'page' if query.continuation_token or found.continuation_token else 'list'}, "
            "newest first.",
            cls="muted",
        ),
        table,
        fh.Nav(*(link for link in pager if link is not None), cls="pager", aria_label="Pages")
        if any(pager)
        else None,
        aria_labelledby="results-title",
    )


def erased_note(erased: ErasedSubmission, tombstone_url: str) -> Any:
    return fh.P(
        f"{erased.client_id} was erased on ",
        when(erased.erased_at),
        ": its personal data is gone, so the search cannot find it. ",
        fh.A(f"Open the tombstone of {erased.client_id}", href=tombstone_url),
    )


def nothing_found(query: DashboardQuery) -> str:
    """Says what was searched for, so a typo in it is easy to spot."""
    text = query.text
    if not query.is_filtered:
        return "No submissions yet."
    if not text:
        return "No submissions match these filters."
    others = " with the filters chosen" if len(query.filters) > 1 else ""
    return (
        f"No submissions match \u201c{text}\u201d{others}. The search looks in company names, "
        "contact names, contact emails and Client IDs."
    )


def dashboard(query: DashboardQuery, action: str, csrf: str, body: Any, *, note: Any = None) -> Any:
    return fh.Section(
        fh.H1("Submissions"),
        note,
        filter_form(query, action, csrf),
        body,
        id="dashboard",
    )


# A record -------------------------------------------------------------------------------


def titled(title: str, joint: str, client_id: str) -> Any:
    """An H1 with the Client ID on a line of its own. ``joint`` is heard, not seen: without it
    a screen reader reads the two lines as one word ("OscorpCL-0291-…")."""
    return fh.H1(
        title,
        fh.Span(joint, cls="visually-hidden"),
        fh.Br(),
        fh.Small(client_id, cls="client-id-small"),
    )


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


def _reason_choices(chosen: str, error: str | None) -> Any:
    """A required radio group; its error sits under the legend, where it is read first."""
    return fh.Fieldset(
        fh.Legend("Why are you erasing it?"),
        fh.Small(error, id=f"{REASON.id}-error", cls="field-error") if error else None,
        *(
            fh.Label(
                fh.Input(
                    type="radio",
                    name=REASON.name,
                    value=reason.value,
                    id=f"{REASON.id}-{reason.value}",
                    required=True,
                    checked=reason.value == chosen,
                    aria_invalid="true" if error else None,
                ),
                words,
                fr=f"{REASON.id}-{reason.value}",
            )
            for reason, words in REASON_CHOICES.items()
        ),
        id=REASON.id,
        aria_describedby=f"{REASON.id}-error" if error else None,
        cls="erase-reasons",
    )


def erase_confirmation(
    client_id: str, action: str, back: str, csrf: str, answers: ErasureAnswers | None = None
) -> Any:
    answers = answers or ErasureAnswers()
    values, errors = answers.values, answers.errors
    confirm_error = errors.get(CONFIRM.name)
    return fh.Section(
        fh.H1("Erase personal data"),
        error_summary(errors, (REASON, NOTE, CONFIRM)),
        fh.Div(
            fh.H2("This cannot be undone"),
            fh.P(
                f"Erasing {client_id} removes the company, contact and engagement details "
                "everywhere the platform keeps them. A tombstone (Client ID, dates, status, "
                "industry, service type) and the audit trail remain: the audit trail records "
                "who erased it, when and why."
            ),
            cls="alert alert-info",
        ),
        fh.Form(
            csrf_input(csrf),
            _reason_choices(values.get(REASON.name, ""), errors.get(REASON.name)),
            field(NOTE, values.get(NOTE.name, ""), errors.get(NOTE.name)),
            fh.Div(
                fh.Label(f"Type the Client ID {client_id} to confirm", fr=CONFIRM.id),
                fh.Input(
                    type="text",
                    id=CONFIRM.id,
                    name=CONFIRM.name,
                    value=values.get(CONFIRM.name, ""),
                    required=True,
                    maxlength=32,
                    autocomplete="off",
                    spellcheck="false",
                    aria_invalid="true" if confirm_error else None,
                    aria_describedby=f"{CONFIRM.id}-error" if confirm_error else None,
                ),
                fh.Small(confirm_error, id=f"{CONFIRM.id}-error", cls="field-error")
                if confirm_error
                else None,
                cls="field",
            ),
            fh.Div(
                fh.A("Cancel", href=back, cls="button-link"),
                fh.Button("Erase personal data", type="submit", cls="contrast"),
                cls="actions",
            ),
            method="post",
            enctype="application/x-www-form-urlencoded",
            action=action,
        ),
        id="erase",
    )


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
