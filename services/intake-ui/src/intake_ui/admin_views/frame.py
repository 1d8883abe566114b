"""The frame of every staff page, and the pieces all of them use: the staff navigation, the
sign-out form, times, status badges, headings with a Client ID, notices and failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fasthtml import common as fh
from starlette.requests import Request

from intake_core.auth import Role
from intake_core.domain.models import Status
from intake_ui import layout
from intake_ui.admin_filters import STAFF_STATUS_LABELS
from intake_ui.components import alert, csrf_input
from intake_ui.security import csrf_token
from intake_ui.staff_session import StaffSession

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


def titled(title: str, joint: str, client_id: str) -> Any:
    """An H1 with the Client ID on a line of its own. ``joint`` is heard, not seen: without it
    a screen reader reads the two lines as one word ("OscorpCL-0291-…")."""
    return fh.H1(
        title,
        fh.Span(joint, cls="visually-hidden"),
        fh.Br(),
        fh.Small(client_id, cls="client-id-small"),
    )
