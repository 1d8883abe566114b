"""schemathesis over admin-api's /openapi.json, as staff with every role and as nobody."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fuzz.apps import StaffTokens, schema_only_admin_app
from fuzz.generation import FUZZ_SETTINGS, openapi_schema
from schemathesis import Case
from schemathesis.checks import not_a_server_error, positive_data_acceptance

pytestmark = pytest.mark.fuzz

schema = openapi_schema(schema_only_admin_app())
UNAUTHENTICATED_PATHS = {"/healthz", "/readyz"}


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_a_server_error(case: Case, admin_app: Any, staff: StaffTokens) -> None:
    case.call_and_validate(app=admin_app, headers=staff.all_roles, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_answer_matches_the_published_schema(
    case: Case, admin_app: Any, staff: StaffTokens
) -> None:
    # Schema-valid but refused is normal here: Client ID check symbols and signed continuation
    # tokens are rules no JSON Schema can state.
    case.call_and_validate(
        app=admin_app, headers=staff.all_roles, excluded_checks=[positive_data_acceptance]
    )


@schema.parametrize()
@FUZZ_SETTINGS
def test_without_a_token_every_answer_is_401(case: Case, admin_app: Any) -> None:
    response = case.call(app=admin_app)
    case.validate_response(response, checks=[not_a_server_error])
    if case.operation.path in UNAUTHENTICATED_PATHS:
        return
    # The coverage phase also tries methods the path does not have: those are 405 for anyone.
    documented = case.method.upper() == case.operation.method.upper()
    assert response.status_code == (401 if documented else 405), response.text
    assert response.headers["content-type"] == ["application/problem+json"]


def test_the_fuzzed_document_is_the_served_one(admin_app: Any) -> None:
    with TestClient(admin_app) as client:
        assert client.get("/openapi.json").json() == schema.raw_schema
