import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from intake_core.domain.models import (
    ErasedSubmission,
    Status,
    SubmissionCreate,
    can_transition,
)
from intake_core.domain.stored import STORED
from support import make_submission

REPO_ROOT = Path(__file__).resolve().parents[3]


def errors_for(body: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        SubmissionCreate.model_validate(body)
    return {tuple(error["loc"]): error["msg"] for error in caught.value.errors()}


def test_valid_body_parses_and_normalises(submission_body: dict[str, Any]) -> None:
    submission_body["company"]["contact"]["email"] = "Ada@EXAMPLE.com"
    submission_body["company"]["address"]["country"] = "gb"
    created = SubmissionCreate.model_validate(submission_body)
    assert created.company.contact.email == "Ada@example.com"
    assert created.company.contact.phone == "+442079460958"
    assert created.company.address.country == "GB"
    assert created.model_dump(by_alias=True)["company"]["address"]["postalCode"] == "SW1A 1AA"


def test_national_phone_number_is_read_in_the_address_country(
    submission_body: dict[str, Any],
) -> None:
    submission_body["company"]["contact"]["phone"] = "020 7946 0958"
    assert SubmissionCreate.model_validate(submission_body).company.contact.phone == "+442079460958"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("company", "contact", "email"), "not-an-email"),
        (("company", "contact", "phone"), "12"),
        (("company", "contact", "phone"), "+1 555 0000 0000 0000"),
        (("company", "contact", "phone"), "call me"),
        (("company", "contact", "phone"), 442079460958),
        (("company", "address", "country"), "XX"),
        (("company", "address", "country"), "GBR"),
        (("company", "industry"), "farming"),
        (("company", "size"), 0),
        (("company", "size"), 10_000_001),
        (("company", "size"), "many"),
        (("company", "size"), True),
        (("company", "size"), False),
        (("company", "name"), ""),
        (("company", "name"), "   "),
        (("company", "name"), "x" * 201),
        (("company", "name"), "Evil\r\nBcc: all@example.com"),
        (("company", "name"), "Right\u202eto left"),
        (("company", "contact", "name"), "Tab\u0000null"),
        (("engagement", "serviceType"), "painting"),
        (("engagement", "scope"), "x" * 5001),
        (("engagement", "timeline"), None),
        (("consent", "accepted"), False),
    ],
)
def test_bad_fields_are_reported_at_their_path(
    submission_body: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    target = submission_body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = errors_for(submission_body)
    assert any(loc[: len(path)] == path for loc in errors), errors


# Each free-text field's shortest and longest value, as the OpenAPI document publishes them.
TEXT_LIMITS = [
    (("company", "name"), 1, 200),
    (("company", "address", "line1"), 1, 200),
    (("company", "address", "line2"), 0, 200),
    (("company", "address", "city"), 1, 100),
    (("company", "address", "region"), 0, 200),
    (("company", "address", "postalCode"), 1, 20),
    (("company", "contact", "name"), 1, 200),
    (("engagement", "scope"), 1, 5000),
    (("engagement", "notes"), 0, 5000),
    (("consent", "privacyNoticeVersion"), 1, 32),
]


@pytest.mark.parametrize(
    ("path", "shortest", "longest"), TEXT_LIMITS, ids=[".".join(path) for path, *_ in TEXT_LIMITS]
)
def test_free_text_is_trimmed_then_held_to_its_length_limits(
    submission_body: dict[str, Any], path: tuple[str, ...], shortest: int, longest: int
) -> None:
    if path[-1] == "postalCode":
        # A country without postal codes, so only the length rules judge the text.
        submission_body["company"]["address"]["country"] = "HK"

    def given(value: str) -> dict[str, Any]:
        target = submission_body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return submission_body

    def parsed(value: str) -> str:
        document = SubmissionCreate.model_validate(given(value)).model_dump(by_alias=True)
        for key in path:
            document = document[key]
        return document

    def refused(value: str) -> bool:
        return any(loc[: len(path)] == path for loc in errors_for(given(value)))

    # Surrounding whitespace is not kept, and does not count towards the limit.
    assert parsed(" \t" + "x" * longest + "\n ") == "x" * longest
    assert refused("x" * (longest + 1))
    assert parsed("x") == "x"
    if shortest:
        assert refused("   ")
    else:
        assert parsed("   ") == ""


def test_the_edges_of_the_size_and_email_rules_are_accepted(
    submission_body: dict[str, Any],
) -> None:
    submission_body["company"]["size"] = 1
    assert SubmissionCreate.model_validate(submission_body).company.size == 1
    submission_body["company"]["size"] = 10_000_000
    assert SubmissionCreate.model_validate(submission_body).company.size == 10_000_000
    # The longest address the standard allows: 254 characters, a 64-character local part.
    longest = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    submission_body["company"]["contact"]["email"] = longest
    assert SubmissionCreate.model_validate(submission_body).company.contact.email == longest
    submission_body["company"]["contact"]["email"] = "e" + longest
    assert ("company", "contact", "email") in errors_for(submission_body)


def test_html_and_formulas_are_accepted_as_text(submission_body: dict[str, Any]) -> None:
    submission_body["company"]["name"] = "<script>alert(1)</script>"
    submission_body["engagement"]["scope"] = '=HYPERLINK("http://evil")\nline two'
    created = SubmissionCreate.model_validate(submission_body)
    assert created.company.name == "<script>alert(1)</script>"
    assert created.engagement.scope.endswith("line two")


def test_unknown_fields_are_refused(submission_body: dict[str, Any]) -> None:
    submission_body["company"]["isAdmin"] = True
    assert ("company", "isAdmin") in errors_for(submission_body)


def test_fingerprint_is_stable_and_content_sensitive(submission_body: dict[str, Any]) -> None:
    first = SubmissionCreate.model_validate(submission_body).fingerprint()
    assert SubmissionCreate.model_validate(submission_body).fingerprint() == first
    submission_body["engagement"]["scope"] = "Something else"
    assert SubmissionCreate.model_validate(submission_body).fingerprint() != first


def test_fingerprint_is_taken_after_normalising_so_a_retry_in_other_words_matches(
    submission_body: dict[str, Any],
) -> None:
    first = SubmissionCreate.model_validate(submission_body).fingerprint()
    retried = {"consent": submission_body["consent"], **submission_body}  # other key order
    retried["company"]["contact"]["phone"] = "020 7946 0958"  # national form, same number
    retried["company"]["address"]["postalCode"] = "  sw1a  1aa "
    retried["company"]["name"] = f"  {submission_body['company']['name']}  "
    assert SubmissionCreate.model_validate(retried).fingerprint() == first


def test_fingerprint_form_is_pinned_because_stored_keys_outlive_a_deploy() -> None:
    """Idempotency keys are kept for a day with this hash: a release that changed its form
    would answer a client's retry across the deploy with 409 instead of its first result."""
    example = json.loads((REPO_ROOT / "docs" / "examples" / "submission.json").read_text())
    assert (
        SubmissionCreate.model_validate(example).fingerprint()
        == "e012c7b22c0f232eb96dd934bdadb04a3b6e9ae867a53b0ba462dc74491178c9"
    )


def test_status_workflow() -> None:
    # received → contacted → qualified → won | lost, one step at a time, never back.
    allowed = {
        (Status.RECEIVED, Status.CONTACTED),
        (Status.CONTACTED, Status.QUALIFIED),
        (Status.QUALIFIED, Status.WON),
        (Status.QUALIFIED, Status.LOST),
    }
    for current in Status:
        for new in Status:
            assert can_transition(current, new) == ((current, new) in allowed), (current, new)


def test_stored_documents_keep_their_shape_checks_but_skip_the_input_checks(
    submission_body: dict[str, Any],
) -> None:
    # Values that input validation would rewrite or refuse show whether those checks ran.
    submission_body["company"]["contact"]["email"] = "Ada@EXAMPLE.com"
    submission_body["company"]["contact"]["phone"] = "020 7946 0958"
    stored = SubmissionCreate.model_validate(submission_body, context=STORED)
    assert stored.company.contact.email == "Ada@EXAMPLE.com"
    assert stored.company.contact.phone == "020 7946 0958"
    fresh = SubmissionCreate.model_validate(submission_body)
    assert fresh.company.contact.email == "Ada@example.com"
    assert fresh.company.contact.phone == "+442079460958"

    submission_body["company"]["industry"] = "not-an-industry"
    submission_body["company"]["name"] = "x" * 201
    with pytest.raises(ValidationError) as caught:
        SubmissionCreate.model_validate(submission_body, context=STORED)
    assert {error["loc"][:2] for error in caught.value.errors()} == {
        ("company", "industry"),
        ("company", "name"),
    }


def test_the_refused_character_classes_are_exactly_the_unicode_categories() -> None:
    # The text checks spell out Cc, Zl, Zp, Cf and Co (less the joiners and direction marks
    # scripts need) and the bidi overrides as regex classes: hold them to this Python's Unicode
    # database, over every code point, so neither can drift.
    import sys
    import unicodedata

    from intake_core.domain import text

    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    kept_format = set("\u200c\u200d\u200e\u200f\u061c")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        refused = (
            category in {"Cc", "Zl", "Zp", "Co"}
            or (category == "Cf" and char not in kept_format)
            or char in bidi
        )
        assert bool(text._SINGLE_LINE_REFUSED.match(char)) == refused, hex(code)
        assert bool(text._MULTI_LINE_REFUSED.match(char)) == (refused and char not in "\n\t"), hex(
            code
        )


def test_the_record_is_made_from_python_names_and_its_time_must_carry_a_zone() -> None:
    submitted_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert make_submission(submitted_at=submitted_at).submitted_at == submitted_at
    with pytest.raises(ValidationError) as caught:
        make_submission(submitted_at=datetime(2026, 3, 1, 12, 0))
    assert [error["loc"] for error in caught.value.errors()] == [("submitted_at",)]


def test_a_validated_record_cannot_be_changed_behind_its_checks(
    submission_body: dict[str, Any],
) -> None:
    created = SubmissionCreate.model_validate(submission_body)
    with pytest.raises(ValidationError):
        created.company.contact.name = "Evil\r\nBcc: all@example.com"
    with pytest.raises(ValidationError):
        make_submission().status = Status.WON


def test_an_erased_record_keeps_no_personal_data() -> None:
    submission = make_submission(status=Status.QUALIFIED)
    erased_at = datetime(2026, 4, 1, tzinfo=UTC)
    tombstone = ErasedSubmission.of(submission, erased_at)
    assert tombstone.model_dump() == {
        "client_id": submission.client_id,
        "submitted_at": submission.submitted_at,
        "status": Status.QUALIFIED,
        "industry": submission.company.industry,
        "service_type": submission.engagement.service_type,
        "erased_at": erased_at,
    }
