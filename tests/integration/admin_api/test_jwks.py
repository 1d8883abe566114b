"""Tokens checked against a real JWKS endpoint (a local HTTP server), as with Entra ID: the key is
picked by ``kid``, a new key is picked up when the JWKS changes, an unknown ``kid`` is 401."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from admin_api.app import create_app
from admin_api.deps import AdminDeps
from admin_api.settings import AdminApiSettings
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.bootstrap import token_verifier
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER

ISSUER = "https://login.example.test/0000-tenant/v2.0"


@functools.cache
def _key(kid: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_key(kid).public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class JwksServer:
    """Serves ``{"keys": [...]}`` at /discovery/v2.0/keys and counts the fetches."""

    kids: list[str]
    fetches: int = 0
    url: str = ""
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)

    def __enter__(self) -> JwksServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/discovery/v2.0/keys":
                    self.send_error(404)
                    return
                owner.fetches += 1
                body = json.dumps({"keys": [_public_jwk(kid) for kid in owner.kids]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/discovery/v2.0/keys"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def _token(kid: str, *, signed_by: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": ADMIN_AUDIENCE,
        "sub": "staff-object-id",
        "roles": ["Submissions.Read"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, _key(signed_by or kid), algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with JwksServer(kids=["key-1", "key-2"]) as server:
        yield server


@pytest.fixture
def client(jwks: JwksServer, tmp_path: Path) -> Iterator[TestClient]:
    settings = AdminApiSettings(
        environment="test",
        INTAKE_DATA_DIR=tmp_path,
        auth_issuer=ISSUER,
        auth_jwks_url=jwks.url,
    )
    assert not settings.uses_dev_issuer
    store = SqliteSubmissionStore(settings.sqlite_path)
    deps = AdminDeps(store=store, verifier=token_verifier(settings))
    with TestClient(create_app(settings, deps), raise_server_exceptions=False) as test_client:
        assert test_client.portal is not None
        test_client.portal.call(store.open)
        yield test_client
        test_client.portal.call(store.close)


def _list(client: TestClient, token: str) -> int:
    response = client.get("/v1/submissions", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


def test_tokens_are_checked_with_the_key_their_kid_names(client, jwks):
    assert _list(client, _token("key-1")) == 200
    assert _list(client, _token("key-2")) == 200
    # Signed with one published key but naming the other: the signature does not verify.
    assert _list(client, _token("key-1", signed_by="key-2")) == 401
    assert jwks.fetches >= 1


class Clock:
    """PyJWT's own monotonic clock, moved forward by the test (the event loop keeps the real
    one): its JWKS cache lifetime and its refresh cooldown then pass without waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    shifted = Clock()
    monkeypatch.setattr(jwt.jwks_client, "time", shifted)
    monkeypatch.setattr(jwt.jwk_set_cache, "time", shifted)
    return shifted


def test_a_new_key_is_accepted_once_the_jwks_publishes_it(client, jwks, clock):
    assert _list(client, _token("key-1")) == 200
    rotated = _token("key-3")
    assert _list(client, rotated) == 401  # not published yet
    jwks.kids = ["key-2", "key-3"]  # the issuer rotates: key-3 in, key-1 out
    # PyJWT refetches for an unknown kid at most once per cooldown (30 s), so a flood of
    # made-up kids cannot flood the identity provider; once it has passed, key-3 is found.
    assert _list(client, rotated) == 401
    fetches = jwks.fetches
    clock.offset = 31
    assert _list(client, rotated) == 200
    assert jwks.fetches == fetches + 1
    assert _list(client, _token("key-2")) == 200


def test_unknown_kids_do_not_flood_the_identity_provider(client, jwks, clock):
    assert _list(client, _token("key-1")) == 200
    for n in range(20):
        assert _list(client, _token(f"made-up-{n}", signed_by="key-1")) == 401
    assert jwks.fetches == 1
    clock.offset = 31
    assert _list(client, _token("made-up-again", signed_by="key-1")) == 401
    assert jwks.fetches == 2  # one refresh per cooldown at most


def test_a_withdrawn_key_is_refused_once_the_cached_jwks_expires(client, jwks, clock):
    assert _list(client, _token("key-1")) == 200
    jwks.kids = ["key-2"]  # key-1 withdrawn (compromised, say)
    clock.offset = 301  # past the JWK set cache's lifespan
    assert _list(client, _token("key-1")) == 401


def test_unknown_or_missing_kid_is_401(client, jwks):
    assert _list(client, _token("no-such-key", signed_by="key-1")) == 401
    no_kid = jwt.encode(
        {"iss": ISSUER, "aud": ADMIN_AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
        _key("key-1"),
        algorithm="RS256",
    )
    assert _list(client, no_kid) == 401
    assert _list(client, _token("../../etc/passwd", signed_by="key-1")) == 401


def test_issuer_audience_and_expiry_still_apply(client):
    assert _list(client, _token("key-1", iss=DEV_ISSUER)) == 401
    assert _list(client, _token("key-1", iss="https://login.example.test/other/v2.0")) == 401
    assert _list(client, _token("key-1", aud="api://another-app")) == 401
    assert _list(client, _token("key-1", exp=int(time.time()) - 3600)) == 401
    assert _list(client, _token("key-1", roles=["Audit.Read"])) == 403


def test_keys_are_cached_not_fetched_per_request(client, jwks):
    for _ in range(10):
        assert _list(client, _token("key-1")) == 200
    assert jwks.fetches == 1


def test_an_unreachable_jwks_is_401_not_500(tmp_path):
    settings = AdminApiSettings(
        environment="test",
        INTAKE_DATA_DIR=tmp_path,
        auth_issuer=ISSUER,
        auth_jwks_url="http://127.0.0.1:9/keys",  # discard port: nothing listens
    )
    store = SqliteSubmissionStore(settings.sqlite_path)
    deps = AdminDeps(store=store, verifier=token_verifier(settings))
    with TestClient(create_app(settings, deps), raise_server_exceptions=False) as test_client:
        assert _list(test_client, _token("key-1")) == 401
