"""Validation errors are addressed by where the client sent them and the JSON path there, in
camelCase, with messages for people."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from intake_core.domain.models import SubmissionCreate
from intake_core.web import FieldProblem, field_problems, json_path, problem_response


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("company", "contact", "email"), "company.contact.email"),
        (("items", 0, "name"), "items[0].name"),
        (("matrix", 2, 3), "matrix[2][3]"),
        (("company", "function-after[_single_line(), constrained-str]"), "company"),
        (("line2", "constrained-str"), "line2"),
        (("size", "lax-or-strict[lax=int,strict=int]"), "size"),
        ((), ""),
        # A client's own unknown key keeps its spelling, hyphens included.
        (("consent", "marketing-opt-in"), "consent.marketing-opt-in"),
        # A key called "body" is a key like any other, not where it was sent.
        (("body",), "body"),
    ],
)
def test_json_path(loc: tuple[int | str, ...], path: str) -> None:
    assert json_path(loc) == path


@pytest.mark.parametrize(
    ("loc", "where", "path"),
    [
        (("body", "company", "contact", "email"), "body", "company.contact.email"),
        (("body", "body"), "body", "body"),
        (("query", "limit"), "query", "limit"),
        (("path", "clientId"), "path", "clientId"),
        (("header", "If-Match"), "header", "If-Match"),
        # The whole body is missing: named by where it is missing.
        (("body",), "body", "body"),
        # A model's own error has no location.
        (("company", "size"), None, "company.size"),
    ],
)
def test_field_problems_say_where_and_which(
    loc: tuple[int | str, ...], where: str | None, path: str
) -> None:
    [problem] = field_problems([{"loc": loc, "type": "missing", "msg": "Field required"}])
    assert problem == FieldProblem(path=path, in_=where, message="is required")


def test_the_location_is_on_the_wire_only_when_known() -> None:
    assert FieldProblem(path="limit", in_="query", message="m").wire() == {
        "path": "limit",
        "in": "query",
        "message": "m",
    }
    assert FieldProblem(path="company.size", message="m").wire() == {
        "path": "company.size",
        "message": "m",
    }


def errors_for(body: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        SubmissionCreate.model_validate(body)
    return {error.path: error.message for error in field_problems(caught.value.errors())}


def test_real_model_errors_use_camel_case_paths(submission_body: dict) -> None:
    submission_body["company"]["address"]["postalCode"] = ""
    submission_body["company"]["contact"]["email"] = "not-an-email"
    submission_body["engagement"]["budgetRange"] = "a lot"
    del submission_body["consent"]["privacyNoticeVersion"]

    errors = errors_for(submission_body)

    assert set(errors) == {
        "company.address.postalCode",
        "company.contact.email",
        "engagement.budgetRange",
        "consent.privacyNoticeVersion",
    }
    assert errors["consent.privacyNoticeVersion"] == "is required"
    assert errors["company.contact.email"].startswith("is not a valid email address")


def test_invisible_characters_are_named_as_such(submission_body: dict) -> None:
    # A zero-width space makes a look-alike name that search cannot find; tag characters can
    # carry text no reader sees. The joiners scripts and emoji need are kept.
    submission_body["company"]["name"] = "Con\u200btoso"
    submission_body["company"]["contact"]["name"] = "\ufeffAda Lovelace"
    submission_body["engagement"]["scope"] = "Audit\U000e0041\U000e0042 our pipelines"
    refused = "must not contain invisible characters (such as a zero-width space)"
    assert errors_for(submission_body) == {
        "company.name": refused,
        "company.contact.name": refused,
        "engagement.scope": refused,
    }

    submission_body["company"]["name"] = (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Ltd"  # ZWNJ
    )
    submission_body["company"]["contact"]["name"] = "Ada \U0001f469\u200d\U0001f4bb Lovelace"  # ZWJ
    submission_body["engagement"]["scope"] = "Audit our pipelines"
    SubmissionCreate.model_validate(submission_body)


def test_messages_are_for_people_not_python(submission_body: dict) -> None:
    submission_body["company"]["name"] = "Contoso\r\nBcc: victim@example.com"
    submission_body["company"]["size"] = True
    submission_body["company"]["address"] = ["1 Main St"]
    submission_body["company"]["contact"]["name"] = "Ada\u202eecalevoL"
    submission_body["consent"]["accepted"] = False
    submission_body["engagement"]["extra"] = 1

    errors = errors_for(submission_body)

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


def test_a_problem_is_titled_with_its_status_phrase() -> None:
    response = problem_response(404, "No submission has this Client ID.", role="x")
    assert response.media_type == "application/problem+json"
    assert json.loads(response.body) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No submission has this Client ID.",
        "role": "x",
    }
