"""The two steps of the onboarding form, and the page shown once it is sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fasthtml import common as fh

from intake_ui.components import (
    alert,
    csrf_input,
    error_summary,
    hidden_values,
    honeypot,
    step_indicator,
)
from intake_ui.components import (
    field as form_field,
)
from intake_ui.fields import (
    CONSENT,
    address_fields,
    company_fields,
    contact_fields,
    engagement_fields,
    step_one_fields,
    step_two_fields,
)
from intake_ui.validation import FieldErrors, FormValues

WIZARD_ID = "wizard"
# A step 1 shown by a GET: app.js may put back the tab's answers ("here"), and send them on to
# step 2 when the address was step 2's ("resume").
Restore = Literal["here", "resume"] | None
IDEMPOTENCY_FIELD = "idempotencyKey"
# Set in a form sent back because the session cookie was missing (see onboarding).
COOKIE_CHECK_FIELD = "cookieCheck"


@dataclass(frozen=True)
class WizardUrls:
    to_project: str
    back_to_company: str
    send: str
    privacy: str
    validate: Callable[[str], str]


@dataclass(frozen=True)
class WizardState:
    """Everything one render needs; ``values`` holds both steps' answers as typed."""

    values: FormValues
    csrf: str
    idempotency_key: str = ""
    errors: FieldErrors = field(default_factory=dict)
    problem: str | None = None
    problem_title: str = "We could not send your request"
    cookie_check: bool = False


def _form(urls_action: str, *children: Any) -> Any:
    return fh.Form(
        *children,
        method="post",
        enctype="application/x-www-form-urlencoded",
        action=urls_action,
        hx_post=urls_action,
        hx_target=f"#{WIZARD_ID}",
        hx_swap="outerHTML",
        hx_disabled_elt="find button",
    )


def _fields(specs: tuple[Any, ...], state: WizardState, urls: WizardUrls) -> list[Any]:
    return [
        form_field(
            spec,
            state.values.get(spec.name, ""),
            state.errors.get(spec.name),
            validate_url=urls.validate(spec.name),
        )
        for spec in specs
    ]


def _cookie_check(state: WizardState) -> Any:
    return (
        fh.Input(type="hidden", name=COOKIE_CHECK_FIELD, value="1") if state.cookie_check else None
    )


def _request_status() -> Any:
    """Where app.js says what a slow request is doing; read out politely."""
    return fh.P("", cls="request-status", role="status")


def _problem(state: WizardState) -> Any:
    return alert(state.problem, title=state.problem_title) if state.problem else None


def company_step(state: WizardState, urls: WizardUrls, *, restore: Restore = None) -> Any:
    carried = [spec.name for spec in step_two_fields()]
    city, postal_code = address_fields()[2], address_fields()[4]
    other_address = [spec for spec in address_fields() if spec not in (city, postal_code)]
    return fh.Section(
        step_indicator(1),
        fh.H1("Tell us about your company", id="wizard-title", tabindex="-1"),
        fh.P(
            "Two short steps, then you get your Client ID. Fields marked optional can be left "
            "empty; everything else is needed."
        ),
        _problem(state),
        error_summary(state.errors, step_one_fields()),
        _form(
            urls.to_project,
            csrf_input(state.csrf),
            _cookie_check(state),
            *hidden_values(state.values, carried),
            fh.Input(type="hidden", name=IDEMPOTENCY_FIELD, value=state.idempotency_key),
            fh.Fieldset(fh.Legend("Company"), *_fields(company_fields(), state, urls)),
            fh.Fieldset(
                fh.Legend("Address"),
                *_fields(tuple(other_address[:2]), state, urls),
                fh.Div(*_fields((city, postal_code), state, urls), cls="grid"),
                *_fields(tuple(other_address[2:]), state, urls),
            ),
            fh.Fieldset(fh.Legend("Contact person"), *_fields(contact_fields(), state, urls)),
            honeypot(),
            _request_status(),
            fh.Div(
                fh.Button(
                    "Continue to project details",
                    type="submit",
                    data_busy_text="Checking your answers…",
                ),
                cls="actions",
            ),
        ),
        id=WIZARD_ID,
        data_restore=restore,
    )


def project_step(state: WizardState, urls: WizardUrls) -> Any:
    carried = [spec.name for spec in step_one_fields()]
    consent = form_field(
        CONSENT,
        state.values.get(CONSENT.name, ""),
        state.errors.get(CONSENT.name),
        validate_url=urls.validate(CONSENT.name),
    )
    return fh.Section(
        step_indicator(2),
        fh.H1("Tell us about your project", id="wizard-title", tabindex="-1"),
        fh.P(f"For {state.values.get('company.name', 'your company')}."),
        _problem(state),
        error_summary(state.errors, step_two_fields()),
        _form(
            urls.send,
            csrf_input(state.csrf),
            _cookie_check(state),
            *hidden_values(state.values, carried),
            fh.Input(type="hidden", name=IDEMPOTENCY_FIELD, value=state.idempotency_key),
            fh.Fieldset(fh.Legend("Project"), *_fields(engagement_fields(), state, urls)),
            fh.Fieldset(
                fh.Legend("Privacy"),
                fh.P(
                    "We use your details only to answer this request, as described in our ",
                    fh.A("privacy notice", href=urls.privacy, target="_blank", rel="noopener"),
                    " (opens in a new tab).",
                ),
                consent,
            ),
            honeypot(),
            _request_status(),
            # Send comes first: pressing Enter in the form uses the first submit button.
            fh.Div(
                fh.Button("Send request", type="submit", data_busy_text="Sending your request…"),
                fh.Button(
                    "Back",
                    type="submit",
                    formaction=urls.back_to_company,
                    formnovalidate=True,
                    cls="secondary outline",
                ),
                cls="actions step-actions",
            ),
        ),
        id=WIZARD_ID,
    )


def submitted(client_id: str, status_url: str) -> Any:
    return fh.Section(
        step_indicator(3),
        fh.H1("Thank you, your request is in"),
        fh.P("Your Client ID is:"),
        fh.Div(
            fh.Output(client_id, id="client-id", cls="client-id", aria_live="polite"),
            fh.Button(
                "Copy",
                type="button",
                cls="secondary outline",
                data_copy_target="client-id",
                hidden=True,
            ),
            fh.Span("", id="copy-status", role="status", cls="copy-status"),
            cls="client-id-box",
        ),
        fh.P(
            fh.Strong("We do not send you an email with it."),
            " Keep it (copy it or write it down): with it and your email address you can check "
            "the status of your request at any time, under “Check your status” at the top of "
            "every page.",
            id="keep-client-id",
        ),
        fh.H2("What happens next"),
        fh.Ol(
            fh.Li("Our sales team receives your request right away."),
            fh.Li("Someone from the team contacts you, usually within two working days."),
            fh.Li("Together we agree the scope and the next steps."),
        ),
        fh.P(fh.A("Check your status", href=status_url, role="button", cls="secondary")),
        id=WIZARD_ID,
        data_sent="true",
    )
