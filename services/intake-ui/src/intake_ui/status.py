"""``/status``: a client checks their request with its Client ID and the contact email."""

from __future__ import annotations

import re
from typing import Any

from fasthtml import common as fh
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request

from intake_core.domain.client_id import InvalidClientId, normalise_client_id
from intake_core.domain.models import Email, Status
from intake_ui import layout, pages
from intake_ui.components import alert
from intake_ui.fields import STATUS_LABELS
from intake_ui.intake_api import (
    IntakeApiClient,
    LookupOutcome,
    StatusFound,
    StatusNotFound,
    Throttled,
)
from intake_ui.security import csrf_token
from intake_ui.validation import FieldErrors, FormValues, read_values

rt = fh.APIRouter(body_wrap=layout.frame)

_EMAIL = TypeAdapter(Email)
# The shape of a Client ID, however typed: one that fails its check has a typo in it.
_SHAPED_LIKE_AN_ID = re.compile(r"\s*CL-?(?:[0-9A-Z]{4}-?){2}[0-9A-Z]{4}\s*", re.IGNORECASE)


def _render(req: Request, status: int = 200, **kwargs: Any) -> Any:
    section = pages.status_page(action=check_status.to(), csrf=csrf_token(req), **kwargs)
    return fh.FtResponse((layout.title(layout.STATUS_PAGE_NAME), section), status_code=status)


@rt("/status", methods=["get"])
def status_form(req: Request) -> Any:
    return _render(req)


@rt("/status", methods=["post"])
async def check_status(req: Request, api: IntakeApiClient) -> Any:
    values = read_values(await req.form(), pages.STATUS_FIELDS)
    client_id, email, errors = _check(values)
    if errors or client_id is None or email is None:
        return _render(req, 422, values=values, errors=errors)
    outcome = await api.lookup_status(client_id, email, req.client.host if req.client else None)
    return _render(req, _status_code(outcome), values=values, result=_result(outcome))


def _check(values: FormValues) -> tuple[str | None, str | None, FieldErrors]:
    errors: FieldErrors = {}
    client_id = email = None
    try:
        client_id = normalise_client_id(values.get("clientId", ""))
    except InvalidClientId:
        errors["clientId"] = (
            "This Client ID has a typo: a letter or digit in it is wrong. Check it against the "
            "one shown when you sent your request."
            if _SHAPED_LIKE_AN_ID.fullmatch(values.get("clientId", ""))
            else "Enter a Client ID like CL-XXXX-XXXX-XXXX."
        )
    try:
        email = _EMAIL.validate_python(values.get("email", ""))
    except ValidationError:
        errors["email"] = "Enter an email address like name@example.com."
    return client_id, email, errors


def _status_code(outcome: LookupOutcome) -> int:
    match outcome:
        case StatusFound() | StatusNotFound():
            return 200
        case Throttled():
            return 429
        case _:
            return 503


def _result(outcome: LookupOutcome) -> Any:
    match outcome:
        case StatusFound(status):
            try:
                return pages.status_result(STATUS_LABELS[Status(status)])
            except ValueError:
                return pages.status_result(status)
        case StatusNotFound():
            return pages.status_not_found()
        case Throttled(seconds):
            return alert(
                f"There have been too many attempts. Please wait {seconds} seconds and try again.",
                title="Too many attempts",
            )
        case _:
            return alert(
                "We cannot check statuses right now. Please try again in a few minutes.",
                title="Status not available",
            )
