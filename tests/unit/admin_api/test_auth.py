"""The authorization matrix: no token, bad tokens and missing roles on every staff route."""

from __future__ import annotations

import base64
import functools
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from intake_core.auth import ROLES
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER

SOME_ID = "CL-0000-0000-0000"  # well formed: auth is decided before the record is looked up

ROUTES = [
    ("GET", "/v1/submissions", "Submissions.Read", None),
    ("GET", f"/v1/submissions/{SOME_ID}", "Submissions.Read", None),
    ("PATCH", f"/v1/submissions/{SOME_ID}", "Submissions.Manage", {"status": "contacted"}),
    ("GET", "/v1/submissions.csv", "Submissions.Export", None),
    ("GET", f"/v1/submissions/{SOME_ID}/audit", "Audit.Read", None),
    ("POST", f"/v1/submissions/{SOME_ID}/erase", "Submissions.Erase", None),
    ("GET", f"/v1/submissions/{SOME_ID}/subject-export", "Submissions.Export", None),
    ("GET", "/v1/audit/verify", "Audit.Read", None),
    ("GET", "/v1/figures", "Submissions.Read", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _, _ in ROUTES]


def _claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": ADMIN_AUDIENCE,
        "sub": "mallory@example.com",
        "roles": list(ROLES),
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _unsigned(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@functools.cache
def _other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _bad_tokens(harness):
    other_key = _other_key()
    return {
        "garbage": "not-a-jwt",
        "expired": harness.token(*ROLES, lifetime=-3600),
        "wrong issuer": jwt.encode(
            _claims(iss="https://evil.example.com"), harness.issuer._private_key(), "RS256"
        ),
        "wrong audience": harness.token(*ROLES, audience="api://something-else"),
        "another key": jwt.encode(_claims(), other_key, algorithm="RS256"),
        "alg none": _unsigned(_claims()),
        "hs256": jwt.encode(_claims(), "x" * 64, algorithm="HS256"),
        "no sub": jwt.encode(
            {k: v for k, v in _claims().items() if k != "sub"},
            harness.issuer._private_key(),
            "RS256",
        ),
        "empty sub": jwt.encode(_claims(sub=""), harness.issuer._private_key(), "RS256"),
        "blank sub": jwt.encode(_claims(sub="   "), harness.issuer._private_key(), "RS256"),
        "sub with a line break": jwt.encode(
            _claims(sub="staff@example.com\r\nactor: someone-else"),
            harness.issuer._private_key(),
            "RS256",
        ),
        "sub too long": jwt.encode(_claims(sub="x" * 257), harness.issuer._private_key(), "RS256"),
        "roles not a list": jwt.encode(
            _claims(roles="Submissions.Read"), harness.issuer._private_key(), "RS256"
        ),
    }


def _call(harness, method, path, body, headers):
    return harness.client.request(method, path, json=body, headers=headers)


def _assert_unauthenticated(response):
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize(("method", "path", "role", "body"), ROUTES, ids=ROUTE_IDS)
def test_without_a_token_the_answer_is_401(harness, method, path, role, body):
    _assert_unauthenticated(_call(harness, method, path, body, {}))


@pytest.mark.parametrize(("method", "path", "role", "body"), ROUTES, ids=ROUTE_IDS)
def test_every_kind_of_bad_token_is_401(harness, method, path, role, body):
    for kind, token in _bad_tokens(harness).items():
        response = _call(harness, method, path, body, {"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, kind
        _assert_unauthenticated(response)


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer", "Token abc", "Bearer " + "a" * 20000],
)
def test_malformed_authorization_headers_are_401(harness, header):
    _assert_unauthenticated(
        harness.client.get("/v1/submissions", headers={"Authorization": header})
    )


@pytest.mark.parametrize(("method", "path", "role", "body"), ROUTES, ids=ROUTE_IDS)
def test_every_other_role_is_403(harness, method, path, role, body):
    others = [other for other in ROLES if other != role]
    response = _call(harness, method, path, body, harness.auth(*others))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert role in response.json()["detail"]
    assert response.json()["role"] == role  # for a client, a field rather than the words


@pytest.mark.parametrize(("method", "path", "role", "body"), ROUTES, ids=ROUTE_IDS)
def test_the_right_role_alone_gets_past_authorization(harness, method, path, role, body):
    response = _call(harness, method, path, body, harness.auth(role))
    # The record does not exist: past authorization, the answer is about the record.
    assert response.status_code in {200, 404}, response.text


def test_a_token_within_the_clock_leeway_is_accepted(harness):
    response = harness.client.get(
        "/v1/submissions",
        headers={"Authorization": f"Bearer {harness.token('Submissions.Read', lifetime=-5)}"},
    )
    assert response.status_code == 200


def test_health_and_metrics_need_no_token(harness):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert harness.client.get(path).status_code == 200
