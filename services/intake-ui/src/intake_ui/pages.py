"""Pages outside the form: privacy notice, status lookup, errors."""

from __future__ import annotations

from typing import Any

from fasthtml import common as fh

from intake_ui.components import alert, csrf_input, field
from intake_ui.fields import FieldSpec
from intake_ui.layout import STATUS_PAGE_NAME
from intake_ui.validation import FieldErrors, FormValues

STATUS_CLIENT_ID = FieldSpec(
    "clientId",
    "Client ID",
    maxlength=32,
    autocomplete="off",
    hint="It looks like CL-XXXX-XXXX-XXXX and was shown when you sent your request.",
)
STATUS_EMAIL = FieldSpec(
    "email", "Email address", kind="email", maxlength=254, autocomplete="email",
    hint="The contact email address given in the request.",
)  # fmt: skip
STATUS_FIELDS = (STATUS_CLIENT_ID, STATUS_EMAIL)


def privacy_notice(version: str, contact_email: str) -> Any:
    return fh.Article(
        fh.H1("Privacy notice"),
        fh.P(fh.Strong(f"Version {version}"), id="notice-version"),
        fh.P(
            "When you ask us for help through this form we collect your company's name, "
            "industry, size and address, and the name, email address and phone number of "
            "the person we should contact, together with what you tell us about your project."
        ),
        fh.H2("Why we use it"),
        fh.P(
            "Only to answer your request and to prepare a proposal. We do not sell your data "
            "or use it for advertising."
        ),
        fh.H2("Who sees it"),
        fh.P("Our sales team and the staff who manage client requests. Every access is logged."),
        fh.H2("How long we keep it"),
        fh.P(
            "As long as we are discussing or delivering your engagement, "
            "then for at most two years."
        ),
        fh.H2("Your rights"),
        fh.P(
            "You can ask us for a copy of your data, to correct it, or to erase it. "
            "Give us your Client ID so we can find your request quickly."
        ),
        fh.H2("How to contact us about your data"),
        fh.P(
            "Write to ",
            fh.A(contact_email, href=f"mailto:{contact_email}", id="privacy-contact"),
            ", with your Client ID if you have it.",
        ),
    )


def status_page(
    *,
    action: str,
    csrf: str,
    values: FormValues | None = None,
    errors: FieldErrors | None = None,
    result: Any = None,
) -> Any:
    values, errors = values or {}, errors or {}
    return fh.Section(
        fh.H1(STATUS_PAGE_NAME, id="status-title", tabindex="-1"),
        result,
        fh.Form(
            csrf_input(csrf),
            *(
                field(spec, values.get(spec.name, ""), errors.get(spec.name))
                for spec in STATUS_FIELDS
            ),
            fh.Div(fh.Button("Check status", type="submit"), cls="actions"),
            method="post",
            enctype="application/x-www-form-urlencoded",
            action=action,
            hx_post=action,
            hx_target="#status",
            hx_swap="outerHTML",
            hx_disabled_elt="find button",
        ),
        id="status",
    )


def status_result(label: str) -> Any:
    return fh.Div(
        fh.H2("Status"), fh.P(label), cls="alert alert-success", role="status", tabindex="-1",
        data_focus="true",
    )  # fmt: skip


def status_not_found() -> Any:
    return alert(
        "We could not find a request with that Client ID and email address. "
        "Check both and try again.",
        title="No matching request",
        kind="info",
    )


def error_page(status: int, title: str, message: str, home: str) -> Any:
    return fh.Article(
        fh.H1(title),
        fh.P(message),
        fh.P(fh.A("Go to the start page", href=home)),
        cls=f"error-page error-{status}",
    )
