"""POST /v1/status-lookup reveals the status only to whoever has both the ID and the email."""

from __future__ import annotations

import pytest

from intake_core.domain.client_id import new_client_id


@pytest.fixture
async def client_id(client, valid_body) -> str:
    response = await client.post("/v1/submissions", json=valid_body)
    assert response.status_code == 201
    return response.json()["clientId"]


async def lookup(client, client_id: str, email: str):
    return await client.post("/v1/status-lookup", json={"clientId": client_id, "email": email})


@pytest.mark.parametrize(
    ("typed_id", "email"),
    [
        (lambda cid: cid, "ada@example.com"),
        (lambda cid: cid.lower(), "ADA@Example.COM"),
        (lambda cid: cid.replace("-", ""), "  ada@example.com "),
        (lambda cid: " " + cid.replace("-", " ").lower() + " ", "Ada@example.com"),
    ],
)
async def test_the_owner_sees_the_status(client, client_id, typed_id, email) -> None:
    response = await lookup(client, typed_id(client_id), email)

    assert response.status_code == 200
    assert response.json() == {"status": "received"}


async def test_no_oracle_every_miss_looks_the_same(client, client_id, problem) -> None:
    typo = client_id[:-1] + ("0" if client_id[-1] != "0" else "1")  # bad check symbol
    misses = [
        await lookup(client, client_id, "eve@example.com"),  # wrong email
        await lookup(client, new_client_id(), "ada@example.com"),  # no such ID
        await lookup(client, typo, "ada@example.com"),
        await lookup(client, "CL-'; DROP TABLE--", "ada@example.com"),  # malformed
        await lookup(client, "", "ada@example.com"),
        await lookup(client, client_id, "not an email"),
    ]

    bodies = {miss.content for miss in misses}
    for miss in misses:
        problem(miss, 404)
    assert len(bodies) == 1
    assert misses[0].json()["detail"] == "No request matches this Client ID and email."


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, {"clientId", "email"}),
        ({"clientId": None, "email": None}, {"clientId", "email"}),
        ({"clientId": ["CL"], "email": 5}, {"clientId", "email"}),
        ({"clientId": "x" * 10_000, "email": "a@b.co"}, {"clientId"}),
        ({"clientId": "CL-1", "email": "a@b.co", "extra": 1}, {"extra"}),
    ],
)
async def test_malformed_requests_are_422(client, problem, body, paths) -> None:
    response = await client.post("/v1/status-lookup", json=body)
    assert {error["path"] for error in problem(response, 422)["errors"]} == paths


async def test_lookups_are_rate_limited(serve, problem) -> None:
    async with serve(rate_limit_enabled=True, rate_limit_per_minute=2) as client:
        for _ in range(2):
            problem(await lookup(client, new_client_id(), "a@b.co"), 404)
        limited = await lookup(client, new_client_id(), "a@b.co")
    problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
