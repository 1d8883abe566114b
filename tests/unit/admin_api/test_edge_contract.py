"""What the edge decides before any route code: caller first, Allow, dates, the document."""

from __future__ import annotations

import pytest

SOME_ID = "CL-0000-0000-0000"


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"status": "contacted"', b"\xff\xfe", b"[]", b'{"status": 1}']
)
def test_without_a_token_the_body_is_not_judged(harness, body):
    response = harness.client.patch(
        f"/v1/submissions/{SOME_ID}", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


def test_without_a_token_a_missing_method_is_still_405(harness):
    response = harness.client.delete(f"/v1/submissions/{SOME_ID}")
    assert response.status_code == 405


@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "PUT"])
def test_405_allows_every_method_the_path_has(harness, method):
    response = harness.client.request(
        method, f"/v1/submissions/{SOME_ID}", headers=harness.all_roles()
    )
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH"}


@pytest.mark.parametrize("content", [b'{"status": ', b"{'status': 'contacted'}", b"not json"])
def test_malformed_json_is_400_as_on_intake_api(harness, content):
    response = harness.client.patch(
        f"/v1/submissions/{SOME_ID}",
        content=content,
        headers={**harness.all_roles(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The body is not valid JSON."


def test_an_unreadable_body_is_400_with_a_detail(harness):
    response = harness.client.patch(
        f"/v1/submissions/{SOME_ID}",
        content=b'{"status": "\xff"}',
        headers={**harness.all_roles(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("submittedFrom", "1700000000"),
        ("submittedFrom", "-1"),
        ("submittedTo", "0.5"),
        ("submittedTo", "1e3"),
        ("submittedFrom", "20260301"),
    ],
)
def test_dates_are_iso_8601_never_a_bare_number(harness, name, value):
    for path in ("/v1/submissions", "/v1/submissions.csv"):
        response = harness.client.get(path, params={name: value}, headers=harness.all_roles())
        assert response.status_code == 422, response.text
        assert [error["path"] for error in response.json()["errors"]] == [name]


@pytest.mark.parametrize("value", ["2026-03-01", "2026-03-01T12:00:00Z", "2026-03-01T12:00"])
def test_iso_8601_dates_still_filter(harness, value):
    response = harness.client.get(
        "/v1/submissions", params={"submittedFrom": value}, headers=harness.all_roles()
    )
    assert response.status_code == 200, response.text


def test_the_document_publishes_problems_as_problem_json(harness):
    document = harness.client.get("/openapi.json").json()
    patch = document["paths"]["/v1/submissions/{clientId}"]["patch"]["responses"]
    for status in ("400", "401", "403", "404", "409", "412", "413", "422", "503"):
        assert list(patch[status]["content"]) == ["application/problem+json"], status
    invalid = patch["422"]["content"]["application/problem+json"]["schema"]["$ref"]
    assert invalid.endswith("/ValidationProblem")
    assert "HTTPValidationError" not in document["components"]["schemas"]
