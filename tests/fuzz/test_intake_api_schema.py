"""schemathesis over intake-api's /openapi.json: every operation, valid and invalid input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fuzz.apps import schema_only_intake_app
from fuzz.generation import FUZZ_SETTINGS, openapi_schema, reachable
from schemathesis import Case
from schemathesis.checks import not_a_server_error, positive_data_acceptance

pytestmark = pytest.mark.fuzz

schema = openapi_schema(schema_only_intake_app())


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_a_server_error(case: Case, intake_app: Any) -> None:
    reachable(case).call_and_validate(app=intake_app, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_answer_matches_the_published_schema(case: Case, intake_app: Any) -> None:
    # Schema-valid but refused is normal here: country codes, email addresses, phone numbers
    # and control characters are checked by the domain model, beyond what the schema states.
    reachable(case).call_and_validate(app=intake_app, excluded_checks=[positive_data_acceptance])


def test_the_fuzzed_document_is_the_served_one(intake_app: Any) -> None:
    with TestClient(intake_app) as client:
        assert client.get("/openapi.json").json() == schema.raw_schema
