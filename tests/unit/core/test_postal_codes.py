"""A postal code is checked against the format of its address's country, and kept canonical."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from intake_core.domain.models import Address, SubmissionCreate
from intake_core.domain.postal_codes import checked_postal_code, postal_format
from intake_core.domain.stored import STORED
from support import VALID_BODY


def _address(country: str, postal_code: str, **context: Any) -> Address:
    data = {"line1": "1 Main St", "city": "Town", "country": country, "postalCode": postal_code}
    return Address.model_validate(data, **context)


def _errors(country: str, postal_code: str) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as refused:
        _address(country, postal_code)
    return [(error["loc"], error["msg"]) for error in refused.value.errors()]


@pytest.mark.parametrize(
    ("country", "typed", "kept"),
    [
        ("GB", "SW1A 1AA", "SW1A 1AA"),
        ("GB", "sw1a  1aa", "SW1A 1AA"),  # upper case, one space
        ("GB", " EC1Y8SY ", "EC1Y8SY"),
        ("US", "95014", "95014"),
        ("US", "22162-1010", "22162-1010"),
        ("CA", "h3z 2y7", "H3Z 2Y7"),
        ("NL", "1234 ab", "1234 AB"),
        ("DE", "10115", "10115"),
        ("IE", "A65 F4E2", "A65 F4E2"),
        ("JP", "154-0023", "154-0023"),
        ("IN", "110001", "110001"),
        ("BR", "40301-110", "40301-110"),
    ],
)
def test_a_code_in_its_countrys_format_is_kept_in_canonical_form(
    country: str, typed: str, kept: str
) -> None:
    assert _address(country, typed).postal_code == kept


@pytest.mark.parametrize(
    ("country", "typed", "kind", "example"),
    [
        ("GB", "12345", "postal code", "EC1Y 8SY"),
        ("GB", "SW1A 1AA X", "postal code", "EC1Y 8SY"),  # a valid code with more after it
        ("US", "9501A", "ZIP code", "95014"),
        ("US", "950141", "ZIP code", "95014"),
        ("NL", "1234", "postal code", "1234 AB"),
        ("DE", "1011", "postal code", "26133"),
        ("IE", "A65", "Eircode", "A65 F4E2"),
        ("IN", "11000", "PIN code", "110034"),
        ("PL", "00950", "postal code", "00-950"),
    ],
)
def test_a_code_not_in_its_countrys_format_is_refused_with_an_example(
    country: str, typed: str, kind: str, example: str
) -> None:
    assert _errors(country, typed) == [
        (("postalCode",), f"Value error, must be in the country's {kind} format, such as {example}")
    ]


@pytest.mark.parametrize("country", ["HK", "AE"])
def test_a_country_without_postal_codes_takes_what_the_text_rules_take(country: str) -> None:
    assert postal_format(country) is None
    assert _address(country, "n/a").postal_code == "n/a"


def test_a_country_the_data_does_not_know_has_no_format() -> None:
    assert postal_format("ZZ") is None
    assert checked_postal_code("anything", "ZZ") == "anything"


def test_a_bad_country_is_the_one_error_not_the_code_as_well() -> None:
    errors = _errors("XX", "12345")
    assert [location for location, _ in errors] == [("country",)]


def test_the_error_names_the_fields_json_path_in_a_submission() -> None:
    body = {**VALID_BODY, "company": {**VALID_BODY["company"]}}
    body["company"]["address"] = {**body["company"]["address"], "postalCode": "ABC"}
    with pytest.raises(ValidationError) as refused:
        SubmissionCreate.model_validate(body)
    assert [error["loc"] for error in refused.value.errors()] == [
        ("company", "address", "postalCode")
    ]


def test_a_stored_code_from_before_the_check_still_reads_back() -> None:
    """Records saved before codes were checked may hold one in another format: reading them
    must not fail, nor change what was stored."""
    assert _address("GB", "not a postcode", context=STORED).postal_code == "not a postcode"
