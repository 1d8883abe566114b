"""Routes of the public two-step form: step 1 (company), step 2 (project), send, sent.

Nothing is kept on the server between steps: each step's form carries the other step's
answers as hidden fields, so back and forth loses nothing and no personal data sits in a
cookie. Every route answers a full page to a plain POST and just the form to htmx.

Each step has a URL (``/`` and ``/project``) that htmx puts in the address bar, so browser
Back, Forward and reload follow the steps. Those GETs carry no answers (never any in a URL):
``app.js`` keeps the tab's answers in its sessionStorage, puts them back, and on ``/project``
posts them again so the server checks step 1 before it shows step 2. Without JavaScript the
steps are POST answers, never stored by the browser (``no-store``, like every page here).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from fasthtml import common as fh
from starlette.exceptions import HTTPException
from starlette.requests import Request

from intake_core.domain.client_id import InvalidClientId, new_client_id, normalise_client_id
from intake_ui import layout
from intake_ui import wizard_views as views
from intake_ui.components import HONEYPOT_FIELD, field
from intake_ui.fields import field_by_name, step_one_fields
from intake_ui.intake_api import (
    IntakeApiClient,
    Invalid,
    KeyReused,
    Refused,
    SubmitOutcome,
    Submitted,
    Throttled,
    Unavailable,
)
from intake_ui.pages import privacy_notice
from intake_ui.security import (
    CSRF_FIELD,
    csrf_token,
    csrf_token_matches,
    session_cookie_sent,
)
from intake_ui.settings import IntakeUiSettings
from intake_ui.status import status_form
from intake_ui.validation import (
    FieldErrors,
    FormValues,
    all_fields,
    errors_for,
    read_values,
    validate_company,
    validate_consent,
    validate_engagement,
    validate_submission,
)

rt = fh.APIRouter(body_wrap=layout.frame)

# These routes check the CSRF token themselves: a refused form comes back with its answers.
CHECKS_OWN_TOKEN = ("/project", "/company", "/send")
# htmx swaps a 403 only when this header says the form came back with the answers in it.
FORM_KEPT_HEADER = "Intake-Form-Kept"
# A 503 page's Retry-After: the page asks to press "Send request" again "in a moment".
TRY_AGAIN_SECONDS = 10


def _urls() -> views.WizardUrls:
    return views.WizardUrls(
        to_project=to_project.to(),
        back_to_company=back_to_company.to(),
        send=send_request.to(),
        privacy=privacy.to(),
        validate=lambda name: validate_field.to(name=name),
    )


async def _posted(req: Request) -> tuple[FormValues, str, bool]:
    """The answers, the idempotency key and whether the honeypot was filled."""
    form = await req.form()
    values = read_values(form, all_fields())
    key = form.get(views.IDEMPOTENCY_FIELD)
    bait = form.get(HONEYPOT_FIELD)
    return values, _valid_key(key), isinstance(bait, str) and bait.strip() != ""


def _valid_key(key: Any) -> str:
    if isinstance(key, str):
        try:
            return str(uuid.UUID(key))
        except ValueError:
            pass
    return ""


def _page(
    req: Request,
    section: Any,
    title: str,
    status: int = 200,
    *,
    step_url: str,
    moved: bool,
    retry_after: int | None = None,
) -> Any:
    """A step, its URL in the address bar: pushed when the user moved there, else replaced.
    ``retry_after`` (seconds) goes with a 429 or 503, as on the API's answers."""
    headers: dict[str, str] = {}
    if status == 403:
        headers[FORM_KEPT_HEADER] = "true"
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if "hx-request" in req.headers:
        here = urlsplit(req.headers.get("hx-current-url", "")).path
        headers["HX-Push-Url" if moved and here != step_url else "HX-Replace-Url"] = step_url
    # Without JavaScript a step is a POST answer, and it stays "no-store" like every page that
    # shows personal data: browser Back then asks to send the form again, rather than the
    # answers staying in the browser's disk cache after the tab is closed (a shared computer).
    return fh.FtResponse((layout.title(title), section), status_code=status, headers=headers)


def _company(
    req: Request, state: views.WizardState, status: int = 200, *, moved: bool = False,
    restore: views.Restore = None,
) -> Any:  # fmt: skip
    section = views.company_step(state, _urls(), restore=restore)
    return _page(
        req, section, "Step 1 of 2: your company", status, step_url=index.to(), moved=moved
    )


def _project(
    req: Request,
    state: views.WizardState,
    status: int = 200,
    *,
    moved: bool = False,
    retry_after: int | None = None,
) -> Any:
    section = views.project_step(state, _urls())
    return _page(
        req,
        section,
        "Step 2 of 2: your project",
        status,
        step_url=project.to(),
        moved=moved,
        retry_after=retry_after,
    )


@rt("/", methods=["get"])
def index(req: Request) -> Any:
    return _company(req, views.WizardState(values={}, csrf=csrf_token(req)), restore="here")


@rt("/project", methods=["get"])
def project(req: Request) -> Any:
    """Step 2's address, reloaded or reached by Back/Forward: the server has no answers, so it
    shows step 1, which app.js fills from the tab's answers and sends on to step 2."""
    state = views.WizardState(values={}, csrf=csrf_token(req))
    return _company(req, state, restore="resume")


@rt("/project", methods=["post"])
async def to_project(req: Request) -> Any:
    values, key, _ = await _posted(req)
    if refused := await _refused_token(req, values, key, "Continue to project details"):
        return refused
    _, errors = validate_company(values)
    state = views.WizardState(values=values, csrf=csrf_token(req), errors=errors)
    if errors:
        return _company(req, state, status=422)
    # The key is made once, when step 2 is first shown, and then travels with the form.
    key = key or str(uuid.uuid4())
    return _project(req, views.WizardState(values, csrf_token(req), key), moved=True)


@rt("/company", methods=["post"])
async def back_to_company(req: Request) -> Any:
    values, key, _ = await _posted(req)
    if refused := await _refused_token(req, values, key, "Back"):
        return refused
    return _company(req, views.WizardState(values, csrf_token(req), key), moved=True)


@rt("/send", methods=["post"])
async def send_request(req: Request, api: IntakeApiClient, settings: IntakeUiSettings) -> Any:
    values, key, caught = await _posted(req)
    if refused := await _refused_token(req, values, key, "Send request", on_project=True):
        return refused
    if caught:
        # A bot filled the invisible field: let it believe it succeeded, send nothing.
        return fh.Redirect(submitted.to(client_id=new_client_id()))
    key = key or str(uuid.uuid4())
    submission, errors = validate_submission(values, settings.privacy_notice_version)
    if submission is None:
        return _show_errors(req, values, key, errors)
    body = submission.model_dump(mode="json", by_alias=True, exclude_none=True)
    client_ip = req.client.host if req.client else None
    outcome = await api.submit(body, key, client_ip, req.headers.get("user-agent"))
    return _after_send(req, outcome, values, key)


async def _refused_token(
    req: Request, values: FormValues, key: str, button: str, *, on_project: bool = False
) -> Any | None:
    """The form back with its answers, a fresh token and why, when the token did not match.

    Nothing is sent on. A browser that did not send the session cookie gets a marker in the
    form: if the cookie is missing again next time, cookies are blocked, not expired.
    """
    form = await req.form()
    if csrf_token_matches(req, form.get(CSRF_FIELD)):
        return None
    cookie_sent = session_cookie_sent(req)
    if not cookie_sent and form.get(views.COOKIE_CHECK_FIELD) == "1":
        title = "Your browser is blocking our cookie"
        message = (
            "This form needs one cookie to protect you from forged requests; it holds no "
            "personal data. Allow cookies for this site, then press "
            f"“{button}” again. Your answers are kept."
        )
    else:
        title = "Please press the button again"
        message = (
            "For your security this form could not be accepted as it was, for example "
            f"because the page was open for a long time. Your answers are kept: press “{button}” "
            "again."
        )
    state = views.WizardState(
        values, csrf_token(req), key, problem=message, problem_title=title,
        cookie_check=not cookie_sent,
    )  # fmt: skip
    if on_project:
        return _project(req, state, status=403)
    return _company(req, state, status=403)


def _show_errors(
    req: Request, values: FormValues, key: str, errors: FieldErrors, problem: str | None = None
) -> Any:
    state = views.WizardState(values, csrf_token(req), key, errors, problem)
    if errors_for(errors, step_one_fields()):
        return _company(req, state, status=422)
    return _project(req, state, status=422)


def _after_send(req: Request, outcome: SubmitOutcome, values: FormValues, key: str) -> Any:
    csrf = csrf_token(req)
    match outcome:
        case Submitted(client_id):
            return fh.Redirect(submitted.to(client_id=client_id))
        case Invalid(problems):
            known = {p.path: p.message for p in problems if field_by_name(p.path)}
            problem = None if known else "Some answers were not accepted. Check them and try again."
            return _show_errors(req, values, key, known, problem)
        case Throttled(seconds):
            message = (
                f"There have been too many attempts. Please wait {seconds} seconds, then press "
                "“Send request” again. Your answers are kept."
            )
            state = views.WizardState(values, csrf, key, problem=message,
                                      problem_title="Too many attempts")  # fmt: skip
            return _project(req, state, status=429, retry_after=seconds)
        case KeyReused():
            message = (
                "Your answers changed after an earlier attempt that may have reached us. "
                "Press “Send request” again to send them as a new request."
            )
            state = views.WizardState(values, csrf, str(uuid.uuid4()), problem=message)
            return _project(req, state, status=409)
        case Unavailable():
            message = (
                "Our service is not responding right now. Your answers are kept: press "
                "“Send request” again in a moment. Your request will never be registered twice."
            )
            state = views.WizardState(values, csrf, key, problem=message)
            return _project(req, state, status=503, retry_after=TRY_AGAIN_SECONDS)
        case Refused(status):
            message = (
                "Your request could not be accepted as sent. Check your answers and try again."
            )
            state = views.WizardState(values, csrf, key, problem=message)
            if status < 500:
                return _project(req, state, status=422)
            return _project(req, state, status=503, retry_after=TRY_AGAIN_SECONDS)


@rt("/fields/{name}", methods=["post"])
async def validate_field(req: Request, name: str, settings: IntakeUiSettings) -> Any:
    """htmx inline check of one field, judged with the same models as the whole form."""
    spec = field_by_name(name)
    if spec is None:
        raise HTTPException(404)
    values, _, _ = await _posted(req)
    if spec in step_one_fields():
        _, errors = validate_company(values)
    elif name.startswith("consent."):
        _, errors = validate_consent(values, settings.privacy_notice_version)
    else:
        _, errors = validate_engagement(values)
    validate_url = validate_field.to(name=name)
    return field(spec, values.get(name, ""), errors.get(name), validate_url=validate_url)


@rt("/submitted/{client_id}", methods=["get"])
def submitted(client_id: str) -> Any:
    try:
        canonical = normalise_client_id(client_id)
    except InvalidClientId:
        raise HTTPException(404) from None
    section = views.submitted(canonical, status_url=status_form.to())
    return (layout.title("Request sent"), section)


@rt("/privacy", methods=["get"])
def privacy(settings: IntakeUiSettings) -> Any:
    notice = privacy_notice(settings.privacy_notice_version, settings.privacy_contact_email)
    return (layout.title("Privacy notice"), notice)
