"""The form's fields: names (the intake-api JSON paths), labels, browser checks, options.

A field's ``name`` is the dotted camelCase path intake-api uses in its 422 answers
(``company.contact.email``), so an error from the API lands next to the right input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Literal, TypeVar

import pycountry

from intake_core.domain.labels import (
    BUDGET_RANGE_LABELS,
    INDUSTRY_LABELS,
    SERVICE_TYPE_LABELS,
    TIMELINE_LABELS,
)
from intake_core.domain.models import MAX_COMPANY_SIZE, Status

E = TypeVar("E", bound=StrEnum)
Kind = Literal["text", "email", "tel", "number", "select", "textarea", "checkbox"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: Kind = "text"
    required: bool = True
    maxlength: int | None = None
    min: int | None = None
    max: int | None = None
    autocomplete: str | None = None
    hint: str | None = None
    options: tuple[tuple[str, str], ...] = field(default=())

    @property
    def id(self) -> str:
        return self.name.replace(".", "-")


STATUS_LABELS = {
    Status.RECEIVED: "Received: we have your request and will be in touch soon",
    Status.CONTACTED: "Contacted: our team has been in touch with you",
    Status.QUALIFIED: "Qualified: we are preparing a proposal",
    Status.WON: "Confirmed: your engagement has started",
    Status.LOST: "Closed: this request is no longer active",
}


def _options(labels: Mapping[E, str]) -> tuple[tuple[str, str], ...]:
    return tuple((member.value, label) for member, label in labels.items())


@cache
def country_options() -> tuple[tuple[str, str], ...]:
    countries = sorted(pycountry.countries, key=lambda country: country.name)
    return tuple((country.alpha_2, country.name) for country in countries)


def company_fields() -> tuple[FieldSpec, ...]:
    return (
        FieldSpec("company.name", "Company name", maxlength=200, autocomplete="organization"),
        FieldSpec("company.industry", "Industry", kind="select", options=_options(INDUSTRY_LABELS)),
        FieldSpec(
            "company.size",
            "Number of employees",
            kind="number",
            min=1,
            max=MAX_COMPANY_SIZE,
            autocomplete="off",
        ),
    )


def address_fields() -> tuple[FieldSpec, ...]:
    return (
        FieldSpec(
            "company.address.line1", "Address line 1", maxlength=200, autocomplete="address-line1"
        ),
        FieldSpec(
            "company.address.line2",
            "Address line 2 (optional)",
            required=False,
            maxlength=200,
            autocomplete="address-line2",
        ),
        FieldSpec(
            "company.address.city", "Town or city", maxlength=100, autocomplete="address-level2"
        ),
        FieldSpec(
            "company.address.region",
            "Region or state (optional)",
            required=False,
            maxlength=200,
            autocomplete="address-level1",
        ),
        FieldSpec(
            "company.address.postalCode", "Postal code", maxlength=20, autocomplete="postal-code"
        ),
        FieldSpec(
            "company.address.country",
            "Country",
            kind="select",
            options=country_options(),
            autocomplete="country",
        ),
    )


def contact_fields() -> tuple[FieldSpec, ...]:
    return (
        FieldSpec("company.contact.name", "Contact name", maxlength=200, autocomplete="name"),
        FieldSpec(
            "company.contact.email",
            "Email address",
            kind="email",
            maxlength=254,
            autocomplete="email",
            hint="We only use it to reply to this request.",
        ),
        FieldSpec(
            "company.contact.phone",
            "Phone number",
            kind="tel",
            maxlength=32,
            autocomplete="tel",
            hint="With the country code (+44 20 7946 0958), or a number in the country above.",
        ),
    )


def engagement_fields() -> tuple[FieldSpec, ...]:
    return (
        FieldSpec(
            "engagement.serviceType",
            "Service you need",
            kind="select",
            options=_options(SERVICE_TYPE_LABELS),
        ),
        FieldSpec(
            "engagement.scope",
            "Scope",
            kind="textarea",
            maxlength=5000,
            hint="What should we help with? Systems, teams, goals.",
        ),
        FieldSpec(
            "engagement.timeline", "Timeline", kind="select", options=_options(TIMELINE_LABELS)
        ),
        FieldSpec(
            "engagement.budgetRange",
            "Budget range",
            kind="select",
            options=_options(BUDGET_RANGE_LABELS),
        ),
        FieldSpec(
            "engagement.notes",
            "Anything else (optional)",
            kind="textarea",
            required=False,
            maxlength=5000,
        ),
    )


CONSENT = FieldSpec(
    "consent.accepted", "I have read and accept the privacy notice", kind="checkbox"
)


def step_one_fields() -> tuple[FieldSpec, ...]:
    return (*company_fields(), *address_fields(), *contact_fields())


def step_two_fields() -> tuple[FieldSpec, ...]:
    return (*engagement_fields(), CONSENT)


def field_by_name(name: str) -> FieldSpec | None:
    return next(
        (spec for spec in (*step_one_fields(), *step_two_fields()) if spec.name == name), None
    )
