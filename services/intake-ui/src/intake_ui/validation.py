"""Check what was typed with the shared domain models, and word each problem for people.

Form values stay flat (dotted names → text as typed) so a page can always show them back;
they are turned into the nested camelCase shape only to be validated and sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from intake_core.domain.models import Company, Consent, Engagement, SubmissionCreate
from intake_ui.fields import CONSENT, FieldSpec, field_by_name, step_one_fields, step_two_fields

FormValues = dict[str, str]
FieldErrors = dict[str, str]
Model = TypeVar("Model", bound=BaseModel)

CHECKED = "yes"
# Forms only ever hold short text; anything longer than this was not typed into our form.
MAX_VALUE_LENGTH = 20_000


def read_values(form: Mapping[str, Any], specs: Iterable[FieldSpec]) -> FormValues:
    """The posted text of the given fields; files, repeats and unknown names are ignored."""
    values: FormValues = {}
    for spec in specs:
        value = form.get(spec.name)
        if isinstance(value, str):
            values[spec.name] = value[:MAX_VALUE_LENGTH]
    return values


def all_fields() -> tuple[FieldSpec, ...]:
    return (*step_one_fields(), *step_two_fields())


def _nested(values: FormValues, prefix: str) -> dict[str, Any]:
    """``{"company.address.city": "Leeds"}`` → ``{"address": {"city": "Leeds"}}`` (for ``company``).

    Empty fields are left out, so a required one reads as missing and an optional one as None.
    """
    tree: dict[str, Any] = {}
    for name, value in values.items():
        if not name.startswith(prefix + ".") or not value.strip():
            continue
        *parents, leaf = name[len(prefix) + 1 :].split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def _validate(
    model: type[Model], prefix: str, data: dict[str, Any]
) -> tuple[Model | None, FieldErrors]:
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        return None, _field_errors(prefix, error.errors())


def _field_errors(prefix: str, details: Iterable[ErrorDetails]) -> FieldErrors:
    errors: FieldErrors = {}
    for detail in details:
        name = ".".join([prefix, *(str(part) for part in detail["loc"])])
        spec = field_by_name(name)
        group = [f for f in all_fields() if f.required and f.name.startswith(name + ".")]
        if spec is None and detail["type"] == "missing" and group:
            # A whole group (the address, the contact) left empty: name each missing field.
            for member in group:
                errors.setdefault(member.name, friendly_message(member, detail))
            continue
        if spec is None:
            # Only a tampered form can cause this: file the message under the nearest field.
            spec = _closest_field(name)
        errors.setdefault(spec.name, friendly_message(spec, detail))
    return errors


# Where "Enter the <label>." reads oddly.
_MISSING = {"company.address.line1": "Enter the first line of the address."}


def _closest_field(name: str) -> FieldSpec:
    for spec in all_fields():
        if name.startswith(spec.name) or spec.name.startswith(name):
            return spec
    return all_fields()[0]


def validate_company(values: FormValues) -> tuple[Company | None, FieldErrors]:
    return _validate(Company, "company", _nested(values, "company"))


def validate_engagement(values: FormValues) -> tuple[Engagement | None, FieldErrors]:
    return _validate(Engagement, "engagement", _nested(values, "engagement"))


def validate_consent(values: FormValues, notice_version: str) -> tuple[Consent | None, FieldErrors]:
    data: dict[str, Any] = {"privacyNoticeVersion": notice_version}
    if values.get(CONSENT.name) == CHECKED:
        data["accepted"] = True
    return _validate(Consent, "consent", data)


def validate_submission(
    values: FormValues, notice_version: str
) -> tuple[SubmissionCreate | None, FieldErrors]:
    company, company_errors = validate_company(values)
    engagement, engagement_errors = validate_engagement(values)
    consent, consent_errors = validate_consent(values, notice_version)
    errors = {**company_errors, **engagement_errors, **consent_errors}
    if company is None or engagement is None or consent is None:
        return None, errors
    return SubmissionCreate(company=company, engagement=engagement, consent=consent), {}


def friendly_message(spec: FieldSpec, detail: ErrorDetails) -> str:
    kind = detail["type"]
    context = detail.get("ctx") or {}
    label = spec.label.removesuffix(" (optional)").lower()
    if spec.kind == "checkbox":
        return "Please tick this box to accept the privacy notice."
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        if spec.name in _MISSING:
            return _MISSING[spec.name]
        return f"Choose the {label}." if spec.kind == "select" else f"Enter the {label}."
    if spec.kind == "select" or kind in {"enum", "literal_error"}:
        return "Choose one of the options in the list."
    if kind == "string_too_long":
        return f"Use at most {context.get('max_length')} characters."
    if kind == "string_too_short":
        return f"Use at least {context.get('min_length')} characters."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "Enter a whole number, such as 25."
    if kind == "greater_than_equal":
        return f"Enter a number of at least {context.get('ge')}."
    if kind == "less_than_equal":
        return f"Enter a number of at most {context.get('le'):,}."
    if spec.kind == "email":
        return "Enter an email address like name@example.com."
    if spec.kind == "tel" and kind == "value_error":
        if "valid" in str(context.get("error", "")):
            return "This is not a valid phone number: check the digits and the country code."
        return "Enter a phone number with its country code, such as +44 20 7946 0958."
    if kind == "value_error":
        return _sentence(str(context.get("error", "is not valid")))
    return "This value is not valid."


def _sentence(reason: str) -> str:
    reason = reason.strip().rstrip(".")
    if reason.startswith(("is ", "must ")):
        reason = "This " + reason if reason.startswith("is ") else "It " + reason
    return reason[:1].upper() + reason[1:] + "."


def errors_for(errors: FieldErrors, specs: Iterable[FieldSpec]) -> FieldErrors:
    names = {spec.name for spec in specs}
    return {name: message for name, message in errors.items() if name in names}
