"""GET /v1/submissions: the pinned shape, q over each field, filters, dates, paging, tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import BASE_TIME

READ = ("Submissions.Read",)
SUMMARY_FIELDS = {
    "clientId",
    "companyName",
    "industry",
    "serviceType",
    "status",
    "submittedAt",
    "contactName",
    "contactEmail",
}


def _search(harness, **params):
    response = harness.client.get("/v1/submissions", params=params, headers=harness.auth(*READ))
    assert response.status_code == 200, response.text
    return response.json()


def _ids(page):
    return [item["clientId"] for item in page["items"]]


def test_the_response_has_exactly_the_pinned_shape(harness):
    submission = harness.seed()
    page = _search(harness)
    assert set(page) == {"items", "continuationToken"}
    assert page["continuationToken"] is None
    assert page["items"] == [
        {
            "clientId": submission.client_id,
            "companyName": "Contoso Ltd",
            "industry": "technology",
            "serviceType": "cloud-migration",
            "status": "received",
            "submittedAt": "2026-03-01T12:00:00Z",
            "contactName": "Ada Lovelace",
            "contactEmail": "ada@example.com",
        }
    ]
    assert set(page["items"][0]) == SUMMARY_FIELDS


def test_newest_first(harness):
    older = harness.seed(submitted_at=BASE_TIME)
    newer = harness.seed(submitted_at=BASE_TIME + timedelta(days=1))
    assert _ids(_search(harness)) == [newer.client_id, older.client_id]


@pytest.mark.parametrize(
    "q",
    [
        "Fabrikam",
        "fabrikam",
        "FABRIKAM",
        "brik",
        "Grace",
        "grace hopper",
        "HOPPER",
        "grace@fab",
        "FABRIKAM.EXAMPLE",
    ],
)
def test_q_matches_company_contact_name_and_email_in_any_case(harness, q):
    wanted = harness.seed(
        name="Fabrikam Inc", contact_name="Grace Hopper", email="grace@fabrikam.example"
    )
    harness.seed()
    assert _ids(_search(harness, q=q)) == [wanted.client_id]


def test_q_matches_the_client_id_whole_partial_and_as_typed(harness):
    wanted = harness.seed()
    harness.seed()
    client_id = wanted.client_id
    typed = client_id.lower().replace("-", "")
    for q in (client_id, client_id.lower(), client_id[3:12], typed):
        assert _ids(_search(harness, q=q)) == [client_id], q


def test_q_matches_a_piece_of_the_client_id_read_out_and_typed_without_hyphens(harness):
    wanted = harness.seed()
    harness.seed()
    compact = wanted.client_id.replace("-", "")
    confused = compact.replace("0", "O").replace("1", "I")
    for q in (compact[2:10], compact[5:].lower(), confused[3:9], f"{compact[:4]} {compact[4:8]}"):
        assert _ids(_search(harness, q=q)) == [wanted.client_id], q


def test_q_with_like_wildcards_is_literal(harness):
    harness.seed(name="Contoso Ltd")
    wanted = harness.seed(name="100% Widgets_Co")
    assert _ids(_search(harness, q="%")) == [wanted.client_id]
    assert _ids(_search(harness, q="s_C")) == [wanted.client_id]
    assert _search(harness, q="C%o")["items"] == []


def test_filters_by_industry_service_type_and_status(harness):
    tech = harness.seed(industry="technology", service_type="cloud-migration")
    health = harness.seed(industry="healthcare", service_type="kubernetes")
    contacted = harness.seed(industry="healthcare", service_type="cloud-migration")
    response = harness.client.patch(
        f"/v1/submissions/{contacted.client_id}",
        json={"status": "contacted"},
        headers=harness.auth("Submissions.Manage"),
    )
    assert response.status_code == 200
    assert _ids(_search(harness, industry="technology")) == [tech.client_id]
    assert _ids(_search(harness, serviceType="kubernetes")) == [health.client_id]
    assert _ids(_search(harness, status="contacted")) == [contacted.client_id]
    assert set(_ids(_search(harness, industry="healthcare", status="received"))) == {
        health.client_id
    }
    assert _search(harness, industry="retail")["items"] == []


def test_date_range_is_inclusive_and_a_bare_date_covers_the_whole_day(harness):
    first = harness.seed(submitted_at=BASE_TIME)  # 2026-03-01 12:00Z
    second = harness.seed(submitted_at=BASE_TIME + timedelta(days=1))  # 2026-03-02 12:00Z
    third = harness.seed(submitted_at=BASE_TIME + timedelta(days=2))  # 2026-03-03 12:00Z
    assert _ids(_search(harness, submittedFrom="2026-03-02", submittedTo="2026-03-02")) == [
        second.client_id
    ]
    assert _ids(_search(harness, submittedFrom="2026-03-02T12:00:00Z")) == [
        third.client_id,
        second.client_id,
    ]
    assert _ids(_search(harness, submittedTo="2026-03-01T12:00:00Z")) == [first.client_id]
    # Another offset means the same instant.
    assert _ids(_search(harness, submittedTo="2026-03-01T13:00:00+01:00")) == [first.client_id]


def test_paging_through_60_records_gives_each_exactly_once(harness, seed_many):
    seeded = seed_many(60)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"limit": 25}
        if token:
            params["continuationToken"] = token
        page = _search(harness, **params)
        pages += 1
        seen.extend(_ids(page))
        token = page["continuationToken"]
        if token is None:
            break
    assert pages == 3
    assert len(seen) == 60
    assert seen == [s.client_id for s in reversed(seeded)]


def test_default_limit_is_25_and_100_is_allowed(harness, seed_many):
    seed_many(30)
    assert len(_search(harness)["items"]) == 25
    assert len(_search(harness, limit=100)["items"]) == 30


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1e3", "99999999999999999999999"])
def test_limit_outside_1_to_100_is_422(harness, limit):
    response = harness.client.get(
        "/v1/submissions", params={"limit": limit}, headers=harness.auth(*READ)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "limit"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("industry", "aerospace"),
        ("serviceType", "'; DROP TABLE submissions; --"),
        ("status", "RECEIVED"),
        ("submittedFrom", "yesterday"),
        ("submittedTo", "2026-13-45"),
        ("submittedFrom", "0001-01-01T00:00:00+01:00"),
        ("submittedTo", "9999-12-31T23:59:59-05:00"),
        ("q", "x" * 201),
    ],
)
def test_bad_filter_values_are_422_naming_the_field(harness, name, value):
    response = harness.client.get(
        "/v1/submissions", params={name: value}, headers=harness.auth(*READ)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == name
    assert value not in response.text  # the problem never echoes input


def test_a_reversed_date_range_is_422(harness):
    response = harness.client.get(
        "/v1/submissions",
        params={"submittedFrom": "2026-03-02", "submittedTo": "2026-03-01"},
        headers=harness.auth(*READ),
    )
    assert response.status_code == 422


def _first_token(harness, seed_many, **params):
    seed_many(3)
    page = _search(harness, limit=1, **params)
    assert page["continuationToken"]
    return page["continuationToken"]


def test_a_tampered_continuation_token_is_422(harness, seed_many):
    token = _first_token(harness, seed_many)
    position, mac = token.split(".")
    flipped = ("A" if position[0] != "A" else "B") + position[1:]
    for bad in (
        f"{flipped}.{mac}",
        f"{position}.{mac[:-2]}AA",
        position,
        "garbage",
        "a.b.c",
        "é.ü",
        "." * 5000,
    ):
        response = harness.client.get(
            "/v1/submissions", params={"continuationToken": bad}, headers=harness.auth(*READ)
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["path"] == "continuationToken"


def test_a_forged_token_for_an_arbitrary_position_is_refused(harness, seed_many):
    import base64
    import json

    seed_many(2)
    raw = base64.urlsafe_b64encode(json.dumps(["9999", "CL-ZZZZ"]).encode()).decode()
    response = harness.client.get(
        "/v1/submissions", params={"continuationToken": raw}, headers=harness.auth(*READ)
    )
    assert response.status_code == 422


def test_a_token_is_bound_to_the_filters_it_was_issued_for(harness, seed_many):
    token = _first_token(harness, seed_many, industry="technology")
    same = harness.client.get(
        "/v1/submissions",
        params={"industry": "technology", "limit": 1, "continuationToken": token},
        headers=harness.auth(*READ),
    )
    assert same.status_code == 200
    other = harness.client.get(
        "/v1/submissions",
        params={"industry": "healthcare", "continuationToken": token},
        headers=harness.auth(*READ),
    )
    assert other.status_code == 422
