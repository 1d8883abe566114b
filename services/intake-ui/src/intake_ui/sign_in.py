"""Staff sign-in and sign-out: Microsoft Entra ID in production, a local dev sign-in in dev.

Entra ID: ``/admin/sign-in`` starts the authorization code flow with PKCE; the state, nonce
and code verifier ride in the signed session cookie for the round trip only, and
``/admin/signed-in`` finishes it. Dev: a form to pick a name, an email address (the actor in
the audit trail) and roles mints a token with the local dev issuer; refused (404) outside dev.
Either way the result is the encrypted staff cookie (see ``staff_session``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fasthtml import common as fh
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake_core.auth import ROLES, DevIssuer, Role
from intake_core.domain.models import Email
from intake_ui import admin_views, layout
from intake_ui.components import alert, csrf_input
from intake_ui.entra_sign_in import EntraSignIn, SignInAttempt, SignInFailed
from intake_ui.security import csrf_token
from intake_ui.settings import IntakeUiSettings
from intake_ui.staff_session import StaffCookies, StaffSession, display_name

rt = fh.APIRouter(body_wrap=admin_views.staff_frame)

NOTICE_KEY = "admin_notice"
_ATTEMPT_KEY = "admin_sign_in"
_EMAIL = TypeAdapter(Email)
DEV_TOKEN_SECONDS = 8 * 3600
ROLE_HINTS: dict[str, str] = {
    Role.READ: "search and view submissions",
    Role.MANAGE: "change a submission's status",
    Role.EXPORT: "download CSV and subject data",
    Role.ERASE: "erase personal data",
    Role.AUDIT_READ: "read the audit trail",
}


def sign_in_page(
    req: Request,
    settings: IntakeUiSettings,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Any:
    note = admin_views.notice(req.session.pop(NOTICE_KEY, None))
    entra = (
        fh.P(
            fh.A(
                "Sign in with Microsoft Entra ID",
                href=start_sign_in.to(),
                cls="button-link primary",
            )
        )
        if settings.staff_sign_in_configured
        else fh.P("Microsoft Entra ID sign-in is not configured here.", cls="muted")
    )
    page = fh.Article(
        fh.H1("Staff sign-in"),
        note,
        alert(error, title="Sign-in did not work") if error else None,
        fh.P(
            "The staff area is for our team only. Staff sign in with their Microsoft Entra ID "
            "work account."
        ),
        entra,
        _dev_form(req, values or {}, errors or {}) if settings.is_dev else None,
        cls="sign-in",
    )
    title = layout.title("Staff sign-in", layout.STAFF_SITE_NAME)
    return fh.FtResponse((title, page), status_code=status)


def _dev_form(req: Request, values: dict[str, Any], errors: dict[str, str]) -> Any:
    chosen = values.get("roles", ROLES)

    def text(name: str, label: str, kind: str, default: str, hint: str) -> Any:
        error = errors.get(name)
        return fh.Div(
            fh.Label(label, fr=f"dev-{name}"),
            fh.Input(
                type=kind,
                id=f"dev-{name}",
                name=name,
                value=values.get(name, default),
                required=True,
                maxlength=100 if kind == "text" else 254,
                aria_invalid="true" if error else None,
                aria_describedby=f"dev-{name}-error dev-{name}-hint"
                if error
                else f"dev-{name}-hint",
            ),
            fh.Small(error, id=f"dev-{name}-error", cls="field-error") if error else None,
            fh.Small(hint, id=f"dev-{name}-hint", cls="hint"),
            cls="field",
        )

    return fh.Section(
        fh.H2("Dev sign-in"),
        fh.P("This is a development environment: sign in locally with any name and roles."),
        fh.Form(
            csrf_input(csrf_token(req)),
            text("name", "Your name", "text", "Dev Staff", "Shown in the page header."),
            text(
                "email",
                "Your email address",
                "email",
                "dev-staff@example.com",
                "Recorded as the actor in the audit trail.",
            ),
            fh.Fieldset(
                fh.Legend("Roles"),
                *(
                    fh.Label(
                        fh.Input(
                            type="checkbox",
                            name="roles",
                            value=role,
                            id=f"role-{role}",
                            checked=role in chosen,
                        ),
                        f"{role}: {ROLE_HINTS[role]}",
                        fr=f"role-{role}",
                        cls="checkbox",
                    )
                    for role in ROLES
                ),
            ),
            fh.Div(fh.Button("Dev sign-in", type="submit"), cls="actions"),
            method="post",
            enctype="application/x-www-form-urlencoded",
            action=dev_sign_in.to(),
        ),
        cls="dev-sign-in",
    )


def _signed_in(req: Request, staff: StaffSession) -> Response:
    # A fresh session (and CSRF token) for the signed-in member of staff.
    req.session.clear()
    response = RedirectResponse(req.app.state.staff_links.dashboard, status_code=303)
    cookies: StaffCookies = req.app.state.staff_cookies
    cookies.write(response, staff, present=req.cookies.keys())
    return response


@rt("/admin/dev-sign-in", methods=["post"])
async def dev_sign_in(req: Request, settings: IntakeUiSettings) -> Any:
    if not settings.is_dev:
        raise HTTPException(404)
    form = await req.form()
    name = str(form.get("name") or "")
    email = str(form.get("email") or "")
    roles = [str(role) for role in form.getlist("roles") if role in ROLES]
    values = {"name": name[:100], "email": email[:254], "roles": roles}
    errors: dict[str, str] = {}
    if not name.strip() or display_name(name) != name.strip() or len(name) > 100:
        errors["name"] = "Enter a name of up to 100 printable characters."
    try:
        email = _EMAIL.validate_python(email)
    except ValidationError:
        errors["email"] = "Enter an email address like name@example.com."
    if errors:
        return sign_in_page(req, settings, status=422, values=values, errors=errors)
    issuer = DevIssuer(settings.data_dir)
    token = await asyncio.to_thread(issuer.issue, email, roles, DEV_TOKEN_SECONDS)
    staff = StaffSession(
        name=display_name(name),
        roles=frozenset(roles),
        access_token=token,
        expires_at=int(time.time()) + DEV_TOKEN_SECONDS,
    )
    return _signed_in(req, staff)


def _redirect_url(req: Request, settings: IntakeUiSettings) -> str:
    if settings.admin_oidc_redirect_url:
        return settings.admin_oidc_redirect_url
    return str(req.base_url).rstrip("/") + finish_sign_in.to()


def _entra(req: Request) -> EntraSignIn:
    entra: EntraSignIn | None = req.app.state.staff_sign_in
    if entra is None:
        raise HTTPException(404)
    return entra


@rt("/admin/sign-in", methods=["get"])
async def start_sign_in(req: Request, settings: IntakeUiSettings) -> Any:
    entra = _entra(req)
    try:
        url, attempt = await entra.begin(_redirect_url(req, settings))
    except SignInFailed as failure:
        return sign_in_page(req, settings, status=503, error=str(failure))
    req.session[_ATTEMPT_KEY] = attempt.as_session()
    return RedirectResponse(url, status_code=303)


@rt("/admin/signed-in", methods=["get"])
async def finish_sign_in(req: Request, settings: IntakeUiSettings) -> Any:
    entra = _entra(req)
    attempt = SignInAttempt.from_session(req.session.pop(_ATTEMPT_KEY, None))
    params = req.query_params
    if params.get("error"):
        message = (
            "The sign-in was cancelled."
            if params.get("error") == "access_denied"
            else "Microsoft Entra ID could not sign you in. Please try again."
        )
        return sign_in_page(req, settings, status=400, error=message)
    code, state = params.get("code", ""), params.get("state", "")
    if not code or not state or len(code) > 4096 or len(state) > 512:
        return sign_in_page(req, settings, status=400, error="This sign-in link is incomplete.")
    try:
        staff = await entra.complete(attempt, state, code, _redirect_url(req, settings))
    except SignInFailed as failure:
        return sign_in_page(req, settings, status=400, error=str(failure))
    try:
        return _signed_in(req, staff)
    except ValueError:
        return sign_in_page(
            req, settings, status=400, error="Your account's token is too large for this site."
        )


@rt("/admin/sign-out", methods=["post"])
def sign_out(req: Request) -> Any:
    req.session.clear()
    req.session[NOTICE_KEY] = "signed-out"
    response = RedirectResponse(req.app.state.staff_links.dashboard, status_code=303)
    cookies: StaffCookies = req.app.state.staff_cookies
    cookies.clear(response, req.cookies.keys())
    return response
