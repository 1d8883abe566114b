"""Validation errors are addressed by the JSON path the client sent, in camelCase."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from intake_api.problems import field_errors, json_path
from intake_core.domain.models import SubmissionCreate


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "company", "contact", "email"), "company.contact.email"),
        (("company", "address", "postalCode"), "company.address.postalCode"),
        (("body", "items", 0, "name"), "items[0].name"),
        (("body", "matrix", 2, 3), "matrix[2][3]"),
        (("body", "company", "function-after[_single_line(), constrained-str]"), "company"),
        (("body", "line2", "constrained-str"), "line2"),
        (("body", "size", "lax-or-strict[lax=int,strict=int]"), "size"),
        (("body",), ""),
        ((), ""),
        # A client's own unknown key keeps its spelling, hyphens included.
        (("body", "consent", "marketing-opt-in"), "consent.marketing-opt-in"),
    ],
)
def test_json_path(loc: tuple[int | str, ...], path: str) -> None:
    assert json_path(loc) == path


def errors_for(body: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        SubmissionCreate.model_validate(body)
    return {error.path: error.message for error in field_errors(caught.value.errors())}


def test_real_model_errors_use_camel_case_paths(valid_body: dict) -> None:
    valid_body["company"]["address"]["postalCode"] = ""
    valid_body["company"]["contact"]["email"] = "not-an-email"
    valid_body["engagement"]["budgetRange"] = "a lot"
    del valid_body["consent"]["privacyNoticeVersion"]

    errors = errors_for(valid_body)

    assert set(errors) == {
        "company.address.postalCode",
        "company.contact.email",
        "engagement.budgetRange",
        "consent.privacyNoticeVersion",
    }
    assert errors["consent.privacyNoticeVersion"] == "is required"
    assert errors["company.contact.email"].startswith("is not a valid email address")


def test_invisible_characters_are_named_as_such(valid_body: dict) -> None:
    # A zero-width space makes a look-alike name that search cannot find; tag characters can
    # carry text no reader sees. The joiners scripts and emoji need are kept.
    valid_body["company"]["name"] = "Con\u200btoso"
    valid_body["company"]["contact"]["name"] = "\ufeffAda Lovelace"
    valid_body["engagement"]["scope"] = "Audit\U000e0041\U000e0042 our pipelines"
    refused = "must not contain invisible characters (such as a zero-width space)"
    assert errors_for(valid_body) == {
        "company.name": refused,
        "company.contact.name": refused,
        "engagement.scope": refused,
    }

    valid_body["company"]["name"] = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Ltd"  # ZWNJ
    valid_body["company"]["contact"]["name"] = "Ada \U0001f469\u200d\U0001f4bb Lovelace"  # ZWJ
    valid_body["engagement"]["scope"] = "Audit our pipelines"
    SubmissionCreate.model_validate(valid_body)


def test_messages_are_for_people_not_python(valid_body: dict) -> None:
    valid_body["company"]["name"] = "Contoso\r\nBcc: victim@example.com"
    valid_body["company"]["size"] = True
    valid_body["company"]["address"] = ["1 Main St"]
    valid_body["company"]["contact"]["name"] = "Ada\u202eecalevoL"
    valid_body["consent"]["accepted"] = False
    valid_body["engagement"]["extra"] = 1

    errors = errors_for(valid_body)

    assert errors == {
        "company.name": "must be a single line without control characters",
        "company.size": "must be a whole number",
        "company.address": "must be an object",
        "company.contact.name": "must not contain invisible text-direction characters",
        "consent.accepted": "must be true",
        "engagement.extra": "is not a known field",
    }
    for message in errors.values():
        assert "Value error" not in message
        assert "Input should be" not in message
