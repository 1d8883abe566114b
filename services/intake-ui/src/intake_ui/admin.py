"""``/admin``: the staff dashboard over admin-api.

Each route reads the signed-in staff member (``StaffSession``; none → the sign-in page), calls
admin-api with their access token and renders the answer. What admin-api refuses comes back
as an ``AdminApiError`` and ``admin_problems.api_problem`` explains it on a page: never a 500.
Controls the staff member lacks the role for are not shown; admin-api still enforces every role.
"""

from __future__ import annotations

from typing import Any

from fasthtml import common as fh
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from intake_core.auth import Role
from intake_core.domain.client_id import InvalidClientId, is_client_id, normalise_client_id
from intake_core.domain.models import ErasedSubmission, Status
from intake_ui import admin_views, layout
from intake_ui.admin_api import (
    AdminApiClient,
    AdminApiError,
    AdminApiUnavailable,
    AuditRow,
    ChangedMeanwhile,
    InvalidRequest,
    MissingRole,
    NotAllowedNow,
    RecordNotFound,
)
from intake_ui.admin_erasure import ErasureAnswers, read_erasure
from intake_ui.admin_figures import DAYS, daily_chart, service_chart
from intake_ui.admin_filters import PAGE_PARAM, TEXT, DashboardQuery, read_query, without_text
from intake_ui.admin_problems import PROBLEMS, redirect, this_page
from intake_ui.security import csrf_token, started_on_another_site
from intake_ui.settings import IntakeUiSettings
from intake_ui.sign_in import NOTICE_KEY, sign_in_page
from intake_ui.staff_session import SignInRequired, StaffSession

rt = fh.APIRouter(body_wrap=admin_views.staff_frame)


def _page(
    title: str, content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Any:
    return fh.FtResponse(
        (layout.title(title, layout.STAFF_SITE_NAME), content), status_code=status, headers=headers
    )


def _client_id(value: str) -> str:
    try:
        return normalise_client_id(value)
    except InvalidClientId:
        raise RecordNotFound from None


def _record_links(client_id: str) -> admin_views.RecordLinks:
    return admin_views.RecordLinks(
        dashboard=dashboard.to(),
        record=submission.to(client_id=client_id),
        status=change_status.to(client_id=client_id),
        audit=audit_trail.to(client_id=client_id),
        erase=confirm_erasure.to(client_id=client_id),
        subject_export=subject_export.to(client_id=client_id),
    )


def _notice(req: Request) -> Any:
    return admin_views.notice(req.session.pop(NOTICE_KEY, None))


@rt("/admin", methods=["get"])
async def dashboard(req: Request, settings: IntakeUiSettings, api: AdminApiClient) -> Any:
    """The list, filtered by what the address says: every filter but the search text, which
    comes by POST (``search``)."""
    if TEXT in req.query_params:
        return _without_search_text(req)
    try:
        staff = StaffSession.__from_request__(req)
    except SignInRequired:
        if "hx-request" in req.headers:  # the session ended while the page was open
            return redirect(req, dashboard.to())
        return sign_in_page(req, settings)
    return await _listing(req, settings, api, staff, read_query(req.query_params))


@rt("/admin", methods=["post"])
async def search(
    req: Request, staff: StaffSession, settings: IntakeUiSettings, api: AdminApiClient
) -> Any:
    """The search form, and the pages and downloads of a search with text: the text travels in
    this body and never in a URL (``admin_filters``).

    With htmx the list is swapped in and the address bar shows the search without its text,
    so a reload or a bookmark shows the list filtered by everything else. Without JavaScript a
    search without text is redirected to its address (nothing to resend on Back or reload); a
    search with text is answered at ``/admin``, and Back or reload offer to send it again."""
    query = read_query(await req.form())
    if not query.text and not query.errors and "hx-request" not in req.headers:
        return RedirectResponse(_address(query), status_code=303)
    return await _listing(req, settings, api, staff, query)


def _address(query: DashboardQuery) -> str:
    """Where the list stands, as a URL: the filters and page, never the search text."""
    params = query.address_filters
    if query.continuation_token and not query.text:  # a text search's pages need its text
        params[PAGE_PARAM] = query.continuation_token
    return dashboard.to(**params)


async def _listing(
    req: Request,
    settings: IntakeUiSettings,
    api: AdminApiClient,
    staff: StaffSession,
    query: DashboardQuery,
) -> Any:
    body: Any = None
    status = 422 if query.errors else 200
    headers: dict[str, str] = {}
    csrf = csrf_token(req)
    if not query.errors:
        try:
            found = await api.search(staff.access_token, query.page(settings.admin_page_size))
        except InvalidRequest:
            status = 422
            body = _page_no_longer_works(query)
        except AdminApiUnavailable:
            if req.method != "POST":
                raise
            # Not the failure page: its "Try again" would be a link, and a link cannot carry
            # the search text. The form above keeps it: searching again is one press.
            status, headers = 503, {"Retry-After": "30"}
            title, message = PROBLEMS[AdminApiUnavailable]
            body = admin_views.problem(title, message)
        else:
            body = admin_views.results(
                query,
                found,
                record_url=lambda client_id: submission.to(client_id=client_id),
                page_url=lambda params: dashboard.to(**params),
                csv_url=(lambda params: export_csv.to(**params))
                if staff.can(Role.EXPORT)
                else None,
                csrf=csrf,
                erased=await _erased_search(api, staff, query) if not found.items else None,
            )
            if req.method == "POST" and "hx-request" in req.headers:
                # A new search is a step in the browser's history; turning its pages is not.
                step = "HX-Replace-Url" if query.continuation_token else "HX-Push-Url"
                headers[step] = _address(query)
    content = admin_views.dashboard(query, dashboard.to(), csrf, body, note=_notice(req))
    return _page("Submissions", content, status, headers)


def _page_no_longer_works(query: DashboardQuery) -> Any:
    if query.text:  # the search form above still holds the text, which no link may carry
        return admin_views.problem(
            "This page no longer works",
            "The list changed or the page was edited. Search again to start from the first page.",
        )
    return admin_views.problem(
        "This page link no longer works",
        "The list changed or the link was edited. Start again from the first page.",
        ("Back to first page", dashboard.to(**query.filters)),
    )


def _without_search_text(req: Request) -> Response:
    """A URL with search text in it: a bookmark, a history entry or a link from before the
    search moved into POST bodies, or one made up.

    Redirected to the same filters without the text, rather than answered at that address
    with the text ignored: that address would stay in the address bar, in the tab's history
    and in any bookmark made from it, and a reload would send the text to the logs again. The
    text is not searched for, nor put into the search box: a link can be made by anyone, and
    text taken from it would be a search the staff member did not type. A notice says why the
    list is not searched (a bare ``q=`` of the old form's filter links needs none).
    """
    if req.query_params.get(TEXT, "").strip():
        req.session[NOTICE_KEY] = "search-text-not-taken"
    return redirect(req, dashboard.to(**without_text(req.query_params)))


async def _erased_search(
    api: AdminApiClient, staff: StaffSession, query: DashboardQuery
) -> ErasedSubmission | None:
    """A search for exactly one Client ID found nothing: is that because it was erased?

    The search leaves tombstones out; reading the record (audited as a read, like opening it)
    tells. Anything but a tombstone, or any failure, leaves the plain "no match" message.
    """
    text = query.text
    if query.continuation_token or not is_client_id(text):
        return None
    try:
        found, _ = await api.record(staff.access_token, normalise_client_id(text))
    except AdminApiError:
        return None
    return found if isinstance(found, ErasedSubmission) else None


async def _erasure(api: AdminApiClient, staff: StaffSession, client_id: str) -> AuditRow | None:
    """Who erased a record and why, as its audit trail records it (the tombstone keeps no
    reason). Needs Audit.Read, and is itself audited as reading the trail; without it, or if
    the trail cannot be read, the tombstone says only when."""
    if not staff.can(Role.AUDIT_READ):
        return None
    try:
        entries = await api.audit_trail(staff.access_token, client_id)
    except AdminApiError:
        return None
    return admin_views.first_erasure(entries)


@rt("/admin/submissions/{client_id}", methods=["get"])
async def submission(req: Request, client_id: str, staff: StaffSession, api: AdminApiClient) -> Any:
    client_id = _client_id(client_id)
    found, etag = await api.record(staff.access_token, client_id)
    links = _record_links(client_id)
    erasure = await _erasure(api, staff, client_id) if isinstance(found, ErasedSubmission) else None
    content = admin_views.record(
        found, etag, staff, links, csrf_token(req), note=_notice(req), erasure=erasure
    )
    return _page(client_id, content)


@rt("/admin/submissions/{client_id}/status", methods=["post"])
async def change_status(
    req: Request, client_id: str, staff: StaffSession, api: AdminApiClient
) -> Any:
    client_id = _client_id(client_id)
    form = await req.form()
    new_status, etag = str(form.get("status") or ""), str(form.get("etag") or "")[:256]
    problem: tuple[str, str] | None = None
    status = 200
    if new_status not in {s.value for s in Status}:
        problem, status = ("Choose a new status", "Pick one of the statuses offered."), 422
    else:
        try:
            await api.change_status(staff.access_token, client_id, new_status, etag)
        except ChangedMeanwhile:
            problem, status = (
                (
                    "This record changed meanwhile",
                    "Someone changed it while you were looking at it. It has been reloaded below: "
                    "check it, then choose the status again.",
                ),
                412,
            )
        except NotAllowedNow:
            problem, status = (
                (
                    "That status change is not allowed",
                    "The record's current status does not allow it. It has been reloaded below.",
                ),
                409,
            )
        except InvalidRequest:
            problem, status = ("That status is not valid", "Pick one of the statuses offered."), 422
    if problem is None and "hx-request" not in req.headers:
        req.session[NOTICE_KEY] = "status-changed"
        return RedirectResponse(submission.to(client_id=client_id), status_code=303)
    found, fresh_etag = await api.record(staff.access_token, client_id)
    note = admin_views.problem(*problem) if problem else admin_views.notice("status-changed")
    links = _record_links(client_id)
    content = admin_views.record(found, fresh_etag, staff, links, csrf_token(req), note=note)
    return _page(client_id, content, status)


@rt("/admin/submissions/{client_id}/audit", methods=["get"])
async def audit_trail(client_id: str, staff: StaffSession, api: AdminApiClient) -> Any:
    client_id = _client_id(client_id)
    entries = await api.audit_trail(staff.access_token, client_id)
    back = submission.to(client_id=client_id)
    return _page(f"Audit trail of {client_id}", admin_views.audit_trail(client_id, entries, back))


def _erase_page(req: Request, client_id: str, answers: ErasureAnswers | None = None) -> Any:
    content = admin_views.erase_confirmation(
        client_id,
        erase.to(client_id=client_id),
        submission.to(client_id=client_id),
        csrf_token(req),
        answers,
    )
    return _page(f"Erase {client_id}", content, 422 if answers and answers.errors else 200)


@rt("/admin/submissions/{client_id}/erase", methods=["get"])
def confirm_erasure(req: Request, client_id: str, staff: StaffSession) -> Any:
    client_id = _client_id(client_id)
    if not staff.can(Role.ERASE):
        raise MissingRole(role=Role.ERASE)
    return _erase_page(req, client_id)


@rt("/admin/submissions/{client_id}/erase", methods=["post"])
async def erase(req: Request, client_id: str, staff: StaffSession, api: AdminApiClient) -> Any:
    client_id = _client_id(client_id)
    answers = read_erasure(await req.form(), client_id)
    if answers.errors:
        return _erase_page(req, client_id, answers)
    try:
        await api.erase(staff.access_token, client_id, answers.reason, answers.note)
    except InvalidRequest as error:
        refused = answers.refused(error.fields)
        if refused is None:
            raise
        return _erase_page(req, client_id, refused)
    req.session[NOTICE_KEY] = "erased"
    return RedirectResponse(submission.to(client_id=client_id), status_code=303)


def _download_from_another_site(req: Request) -> Any:
    """A link on another site must not start an export: each is audited in the staff member's
    name. Linked from our own page, the same URL works, so the staff member can still choose to.
    (A download sent by POST carries the search text, which no link may: it gets no link. The
    CSRF token stops such a POST from another site before this anyway.)"""
    content = admin_views.problem_page(
        "The download was not started",
        "This download link was opened from another website. Exports are recorded in the audit "
        "trail under your name, so we only start them from this site. If you meant to "
        "download it, "
        + ("use the link below." if req.method == "GET" else "search again and download it."),
        [
            fh.A("Download it", href=this_page(req)) if req.method == "GET" else None,
            fh.A("All submissions", href=dashboard.to()),
        ],
    )
    return _page("The download was not started", content, 403)


@rt("/admin/submissions.csv", methods=["get"])
async def export_csv(req: Request, staff: StaffSession, api: AdminApiClient) -> Any:
    """The CSV of the list without search text (a link); with text it is ``export_search``."""
    if TEXT in req.query_params:  # first: the refusal below would link to this very URL
        return _without_search_text(req)
    if started_on_another_site(req):
        return _download_from_another_site(req)
    query = read_query(req.query_params)
    if query.errors:
        return RedirectResponse(dashboard.to(**without_text(query.values)), status_code=303)
    download = await api.export_csv(staff.access_token, query.filters)
    return StreamingResponse(download.chunks(), headers=download.headers)


@rt("/admin/submissions.csv", methods=["post"])
async def export_search(
    req: Request, staff: StaffSession, settings: IntakeUiSettings, api: AdminApiClient
) -> Any:
    """The CSV of a search with text, which comes in this body (a form button, not a link)."""
    if started_on_another_site(req):
        return _download_from_another_site(req)
    query = read_query(await req.form())
    if query.errors:  # only an edited form gets here: show what is wrong, as a search would
        return await _listing(req, settings, api, staff, query)
    download = await api.export_csv(staff.access_token, query.filters)
    return StreamingResponse(download.chunks(), headers=download.headers)


@rt("/admin/submissions/{client_id}/subject-export", methods=["get"])
async def subject_export(
    req: Request, client_id: str, staff: StaffSession, api: AdminApiClient
) -> Any:
    if started_on_another_site(req):
        return _download_from_another_site(req)
    client_id = _client_id(client_id)
    download = await api.subject_export(staff.access_token, client_id)
    headers = {
        "content-type": "application/json",
        "content-disposition": f'attachment; filename="{client_id}.json"',
        **download.headers,
    }
    return StreamingResponse(download.chunks(), headers=headers)


@rt("/admin/figures", methods=["get"])
async def figures(staff: StaffSession, api: AdminApiClient) -> Any:
    numbers = await api.figures(staff.access_token, days=DAYS)
    content = fh.Section(
        fh.H1("Figures"),
        fh.P(
            f"The last {len(numbers.days)} days (UTC), by each submission's current status."
            " Erased submissions still count: they keep their status and service type."
            " New submissions can take a short while to appear.",
            cls="muted",
        ),
        fh.Article(fh.H2("Submissions per day"), daily_chart(numbers)),
        fh.Article(fh.H2("Submissions per service type"), service_chart(numbers)),
    )
    return _page("Figures", content)
