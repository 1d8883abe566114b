"""What the staff dashboard shows when admin-api refuses: ``api_problem`` turns every
``AdminApiError`` into a page in the staff frame (never a 500), ``sign_in_required`` sends a
signed-out request to sign in. With htmx both still reach the whole page: a redirect is an
``HX-Redirect``, and a failure retargets the swap to ``#main``.
"""

from __future__ import annotations

from typing import Any

from fasthtml import common as fh
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake_ui import admin_views, layout
from intake_ui.admin_api import (
    AdminApiError,
    AdminApiUnavailable,
    ChangedMeanwhile,
    InvalidRequest,
    MissingRole,
    NotAllowedNow,
    RecordNotFound,
    SignInExpired,
)
from intake_ui.sign_in import NOTICE_KEY, ROLE_HINTS
from intake_ui.staff_session import StaffCookies

PROBLEMS: dict[type[AdminApiError], tuple[str, str]] = {
    MissingRole: (
        "You do not have access to this",
        "Your account does not have the role this needs. Ask an administrator if it should.",
    ),
    RecordNotFound: (
        "No such submission",
        "No submission has this Client ID. Check it, or search for the company.",
    ),
    NotAllowedNow: ("Not possible right now", "The record's current state does not allow this."),
    ChangedMeanwhile: (
        "This record changed meanwhile",
        "Someone changed it while you were looking at it. Reload it and try again.",
    ),
    InvalidRequest: ("That request was not valid", "Go back to the list and try again."),
    AdminApiUnavailable: (
        "The staff service is not available",
        "We could not reach it just now. Nothing was changed. Try again in a minute; "
        "if it still fails after a few minutes, tell the team that runs the platform.",
    ),
}


def this_page(req: Request) -> str:
    """The path and query of the request, to offer the same page again."""
    return req.url.path + (f"?{req.url.query}" if req.url.query else "")


def redirect(req: Request, url: str) -> Response:
    """A 303, or for htmx an ``HX-Redirect``: htmx would swap a followed redirect into the part
    of the page it meant to replace."""
    if "hx-request" in req.headers:
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def sign_in_required(req: Request, _: Exception) -> Response:
    return redirect(req, req.app.state.staff_links.dashboard)


def _missing_role_message(error: MissingRole) -> str:
    needed = (
        f"This needs the {error.role} role (to {ROLE_HINTS[error.role]}), "
        "and your account does not have it."
        if error.role in ROLE_HINTS
        else "Your account does not have the role this needs."
    )
    return (
        f"{needed} If you should have it, ask whoever manages staff access to the onboarding "
        "platform to give it to you, then sign out and sign in again."
    )


def _ways_on(req: Request, error: AdminApiError) -> list[Any]:
    """Where the staff member can go from a failure: never just back to the page that failed."""
    links: admin_views.StaffLinks = req.app.state.staff_links
    here = req.url.path
    ways: list[Any] = []
    if isinstance(error, AdminApiUnavailable) and req.method == "GET":
        ways.append(fh.A("Try again", href=this_page(req)))
    if here != links.dashboard:
        ways.append(fh.A("All submissions", href=links.dashboard))
    if isinstance(error, MissingRole) and here == links.dashboard:
        ways.append(admin_views.sign_out_form(req, "Sign out, to sign in with another account"))
    return ways


def api_problem(req: Request, error: Exception) -> Any:
    """Every refusal of admin-api as a page in the staff frame; 401 goes back to sign-in."""
    assert isinstance(error, AdminApiError)
    links: admin_views.StaffLinks = req.app.state.staff_links
    if isinstance(error, SignInExpired):
        req.session[NOTICE_KEY] = "session-ended"
        response = redirect(req, links.dashboard)
        cookies: StaffCookies = req.app.state.staff_cookies
        cookies.clear(response, req.cookies.keys())
        return response
    title, message = PROBLEMS.get(type(error), PROBLEMS[AdminApiUnavailable])
    if isinstance(error, MissingRole):
        message = _missing_role_message(error)
    req.body_wrap = admin_views.staff_frame  # type: ignore[attr-defined]
    content = admin_views.problem_page(title, message, _ways_on(req, error))
    headers: dict[str, str] = {}
    status = error.status
    if "hx-request" in req.headers:
        # Show the message as the page, whatever part of it the request meant to replace.
        # htmx leaves 403 answers unswapped (it means an expired form there).
        headers = {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"}
        status = 200 if status == 403 else status
    if status == 503:
        headers["Retry-After"] = "30"
    return fh.FtResponse(
        (layout.title(title, layout.STAFF_SITE_NAME), content), status_code=status, headers=headers
    )
