"""``/admin``: the staff area. For now, sign-in only; the dashboard grows here.

Staff sign in with Microsoft Entra ID in production. In dev a local sign-in stands in for it
and is refused in any other environment. The session holds only a staff marker, never
client data.
"""

from __future__ import annotations

from typing import Any

from fasthtml import common as fh
from starlette.exceptions import HTTPException
from starlette.requests import Request

from intake_ui import layout
from intake_ui.components import csrf_input
from intake_ui.security import csrf_token
from intake_ui.settings import IntakeUiSettings

rt = fh.APIRouter(body_wrap=layout.frame)

_STAFF_KEY = "staff"
DEV_STAFF = "dev-staff"


@rt("/admin", methods=["get"])
def admin_home(req: Request, settings: IntakeUiSettings) -> Any:
    staff = req.session.get(_STAFF_KEY)
    if not isinstance(staff, str):
        return (fh.Title("Staff sign-in"), _sign_in(req, settings))
    return (
        fh.Title("Staff area"),
        fh.Article(
            fh.H1("Staff area"),
            fh.P(f"Signed in as {staff}. The submissions dashboard will appear here."),
            fh.Form(
                csrf_input(csrf_token(req)),
                fh.Button("Sign out", type="submit", cls="secondary"),
                method="post",
                enctype="application/x-www-form-urlencoded",
                action=sign_out.to(),
            ),
        ),
    )


def _sign_in(req: Request, settings: IntakeUiSettings) -> Any:
    dev = (
        fh.Form(
            fh.P("This is a development environment: you can use the local sign-in."),
            csrf_input(csrf_token(req)),
            fh.Button("Dev sign-in", type="submit"),
            method="post",
            enctype="application/x-www-form-urlencoded",
            action=dev_sign_in.to(),
        )
        if settings.is_dev
        else None
    )
    return fh.Article(
        fh.H1("Staff sign-in"),
        fh.P(
            "The staff area is for our team only. Staff sign in with their Microsoft Entra ID "
            "work account in production."
        ),
        dev,
    )


@rt("/admin/dev-sign-in", methods=["post"])
def dev_sign_in(req: Request, settings: IntakeUiSettings) -> Any:
    if not settings.is_dev:
        raise HTTPException(404)
    req.session[_STAFF_KEY] = DEV_STAFF
    return fh.Redirect(admin_home.to())


@rt("/admin/sign-out", methods=["post"])
def sign_out(req: Request) -> Any:
    req.session.pop(_STAFF_KEY, None)
    return fh.Redirect(admin_home.to())
