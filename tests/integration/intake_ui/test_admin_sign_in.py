"""Staff sign-in: the dev sign-in, the encrypted staff cookie, sign-out, and the Entra ID
authorization code + PKCE flow against a fake OIDC provider on a real uvicorn (real HTTP for
discovery, token and JWKS; the browser's hop to the authorize endpoint is made with httpx)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup
from intake_ui_admin_testkit import (
    ALL_ROLES,
    AccessTokenVerifier,
    FakeAdminApi,
    FakeEntraId,
    csrf_in,
    dev_sign_in,
    sample,
)
from intake_ui_testkit import FakeIntakeApi, ServerThread, free_port
from starlette.testclient import TestClient

from intake_core.domain.client_id import new_client_id
from intake_ui.app import UiDeps, create_app
from intake_ui.intake_api import IntakeApiClient
from intake_ui.settings import IntakeUiSettings
from intake_ui.staff_session import StaffCookies, StaffSession


def _session(client: TestClient) -> dict[str, Any]:
    raw = client.cookies.get("intake_ui_session")
    if not raw:
        return {}
    decoded: dict[str, Any] = json.loads(base64.b64decode(raw.split(".")[0] + "=="))
    return decoded


def _staff_cookies(response: httpx.Response) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith("intake_ui_staff")]


# -- dev sign-in ---------------------------------------------------------------------------


def test_without_a_session_admin_shows_the_sign_in_page(admin_client: TestClient) -> None:
    page = admin_client.get("/admin")
    assert page.status_code == 200
    document = BeautifulSoup(page.text, "html.parser")
    assert document.find("h1").get_text() == "Staff sign-in"
    assert "Microsoft Entra ID" in page.text
    assert "not configured" in page.text  # no authority in these settings
    for control in document.select(".dev-sign-in input:not([type=hidden])"):
        label = document.find("label", attrs={"for": control["id"]})
        assert label is not None and label.get_text(strip=True)
    roles = [box["value"] for box in document.select("input[name=roles]")]
    assert roles == list(ALL_ROLES)
    assert all(box.has_attr("checked") for box in document.select("input[name=roles]"))


def test_dev_sign_in_sets_an_encrypted_staff_cookie_and_signs_out(
    admin_client: TestClient, fake_admin_api: FakeAdminApi, tmp_path: Path
) -> None:
    fake_admin_api.add(sample(new_client_id()))
    csrf = csrf_in(admin_client.get("/admin").text)
    answer = admin_client.post("/admin/dev-sign-in", data={
        "csrf_token": csrf, "name": "Rosalind Franklin", "email": "rosalind@example.com",
        "roles": ["Submissions.Read", "Audit.Read", "Not.A.Role"],
    })  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/admin"
    [cookie] = _staff_cookies(answer)
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/admin" in lowered
    assert "secure" not in lowered  # dev runs on http://127.0.0.1
    assert "rosalind" not in lowered  # no readable name (the token is checked below)
    # Signing in starts a fresh session; the signed (readable) one never holds PII.
    assert _session(admin_client) == {}
    page = admin_client.get("/admin")
    assert page.status_code == 200 and "Signed in as Rosalind Franklin" in page.text
    assert set(_session(admin_client)) == {"csrf"} and _session(admin_client)["csrf"] != csrf
    staff = admin_client.app.state.staff_cookies.read(admin_client.cookies)  # type: ignore[attr-defined]
    assert staff.roles == {"Submissions.Read", "Audit.Read"}
    # A dev token for this subject, signed by the dev issuer in tmp_path.
    assert fake_admin_api.verifier.verify(staff.access_token).subject == "rosalind@example.com"
    # None of the token's parts is readable in the cookie. (Each is dozens of characters: the
    # short probe this test had, "eyj", once turned up by chance in the random ciphertext.)
    assert not any(part in cookie for part in staff.access_token.split("."))

    out = admin_client.post("/admin/sign-out", data={"csrf_token": csrf_in(page.text)})
    assert out.status_code == 303
    assert any('intake_ui_staff_0=""' in c for c in _staff_cookies(out))
    after = admin_client.get("/admin")
    assert "Staff sign-in" in after.text and "You have signed out" in after.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("email", ""), ("name", ""), ("name", "a\nb"),
     ("name", "x" * 101), ("email", "<script>@x")],
)  # fmt: skip
def test_dev_sign_in_explains_bad_input_and_keeps_it(
    admin_client: TestClient, field: str, value: str
) -> None:
    csrf = csrf_in(admin_client.get("/admin").text)
    data = {"csrf_token": csrf, "name": "Dev", "email": "dev@example.com", field: value}
    answer = admin_client.post("/admin/dev-sign-in", data=data)
    assert answer.status_code == 422
    document = BeautifulSoup(answer.text, "html.parser")
    assert document.find(id=f"dev-{field}-error").get_text(strip=True)
    assert document.find(id=f"dev-{field}")["value"] == value[: 100 if field == "name" else 254]
    assert _staff_cookies(answer) == []


def test_outside_dev_there_is_no_dev_sign_in(fake_api: FakeIntakeApi) -> None:
    settings = IntakeUiSettings(environment="prod", UI_SESSION_SECRET="s" * 40)
    app = create_app(settings, deps=IntakeApiClient(httpx.AsyncClient()))
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/admin")
        assert "Dev sign-in" not in page.text and "not configured" in page.text
        assert "<form" not in page.text.split("<main", 1)[1]
        form = client.get("/")
        csrf = csrf_in(form.text)
        # The session cookie is Secure outside dev; this client talks plain http.
        client.cookies.set("__Host-intake_ui_session", form.cookies["__Host-intake_ui_session"])
        answer = client.post("/admin/dev-sign-in", data={"csrf_token": csrf,
                                                        "name": "x", "email": "x@example.com"})  # fmt: skip
        assert answer.status_code == 404
        assert client.get("/admin/sign-in").status_code == 404


@pytest.mark.parametrize("mangle", ["tamper", "expire", "other-secret", "garbage"])
def test_a_bad_staff_cookie_means_signed_out(admin_client: TestClient, mangle: str) -> None:
    dev_sign_in(admin_client)
    cookies: StaffCookies = admin_client.app.state.staff_cookies  # type: ignore[attr-defined]
    staff = cookies.read(admin_client.cookies)
    assert staff is not None
    if mangle == "expire":
        expired = StaffSession(staff.name, staff.roles, staff.access_token, int(time.time()) - 1)
        value = _sealed(cookies, expired)
    elif mangle == "other-secret":
        value = _sealed(StaffCookies("x" * 40, secure=False), staff)
    elif mangle == "tamper":
        value = admin_client.cookies["intake_ui_staff_0"]
        value = value[:50] + ("A" if value[50] != "A" else "B") + value[51:]
    else:
        value = "not-fernet"
    admin_client.cookies.clear()
    admin_client.cookies.set("intake_ui_staff_0", value)
    page = admin_client.get("/admin")
    assert page.status_code == 200 and "Staff sign-in" in page.text


def _sealed(cookies: StaffCookies, staff: StaffSession) -> str:
    from starlette.responses import Response

    response = Response()
    cookies.write(response, staff)
    return response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]


def test_a_long_token_is_split_over_several_cookies_and_read_back() -> None:
    from starlette.responses import Response

    cookies = StaffCookies("k" * 40, secure=True)
    token = secrets.token_urlsafe(6000)  # ~8 KB, incompressible
    staff = StaffSession("A", frozenset({"Submissions.Read"}), token, int(time.time()) + 600)
    response = Response()
    cookies.write(response, staff, present=["intake_ui_staff_0", "intake_ui_staff_3"])
    headers = response.headers.getlist("set-cookie")
    jar = {}
    for header in headers:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if value and value != '""':
            jar[name] = value
        assert "secure" in header.lower() and "httponly" in header.lower()
    assert len(jar) >= 3 and all(len(v) <= 3800 for v in jar.values())
    assert any(h.startswith('intake_ui_staff_3=""') for h in headers)  # stale chunk removed
    assert cookies.read(jar) == staff


# -- Entra ID (OIDC authorization code + PKCE) ----------------------------------------------


@pytest.fixture
def entra() -> Iterator[FakeEntraId]:
    provider = FakeEntraId()
    with ServerThread(provider.app()) as server:
        provider.base_url = server.url
        yield provider


@pytest.fixture
def entra_admin_api(entra: FakeEntraId) -> FakeAdminApi:
    api = FakeAdminApi(AccessTokenVerifier(entra))
    api.add(sample(new_client_id(), company="Initech"))
    return api


@pytest.fixture
def entra_client(
    entra: FakeEntraId, entra_admin_api: FakeAdminApi, tmp_path: Path
) -> Iterator[TestClient]:
    from intake_ui.admin_api import AdminApiClient

    admin_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=entra_admin_api.app()), base_url="http://admin-api"
    )
    settings = IntakeUiSettings(
        environment="test", INTAKE_DATA_DIR=tmp_path,
        admin_oidc_authority=entra.authority, admin_oidc_client_id=entra.client_id,
        admin_oidc_redirect_url="http://testserver/admin/signed-in",
    )  # fmt: skip
    deps = UiDeps(
        intake_api=IntakeApiClient(httpx.AsyncClient()),
        admin_api=AdminApiClient(admin_http, max_wait_seconds=0.01),
    )
    with TestClient(create_app(settings, deps=deps), follow_redirects=False) as client:
        yield client


def _authorize(client: TestClient) -> str:
    """Start the sign-in, let the provider 'sign in' the user; the callback URL it sends back."""
    start = client.get("/admin/sign-in")
    assert start.status_code == 303
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    return str(at_provider.headers["location"])


def test_entra_sign_in_round_trip(
    entra_client: TestClient, entra: FakeEntraId, entra_admin_api: FakeAdminApi
) -> None:
    page = entra_client.get("/admin")
    assert page.status_code == 200
    link = BeautifulSoup(page.text, "html.parser").find(
        "a", string="Sign in with Microsoft Entra ID"
    )
    assert link["href"] == "/admin/sign-in"

    start = entra_client.get(link["href"])
    assert start.status_code == 303
    authorize = urlsplit(start.headers["location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        f"{entra.authority}/oauth2/v2.0/authorize"
    )
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert query["client_id"] == entra.client_id
    assert query["redirect_uri"] == "http://testserver/admin/signed-in"
    assert query["scope"].split() == ["openid", "profile", "api://intake-admin/.default"]
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    # The verifier stays in the (signed) session for the round trip; only its hash leaves.
    kept = _session(entra_client)["admin_sign_in"]
    assert kept["s"] == query["state"] and kept["v"] not in start.headers["location"]

    callback = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    done = entra_client.get(callback)
    assert done.status_code == 303 and done.headers["location"] == "/admin", done.text
    assert "admin_sign_in" not in _session(entra_client)
    [token_request] = entra.token_requests
    assert token_request["code_verifier"] == kept["v"]
    assert "client_secret" not in token_request

    dashboard = entra_client.get("/admin")
    assert "Signed in as Grace Hopper" in dashboard.text and "Initech" in dashboard.text
    sent = entra_admin_api.calls[-1]
    assert AccessTokenVerifier(entra).verify(sent.token or "").subject == "grace@example.com"
    # Roles come from the access token: Manage yes, Export no.
    record = entra_client.get(BeautifulSoup(dashboard.text, "html.parser")
                              .select_one("a.client-id-link")["href"])  # fmt: skip
    assert "Change the status" in record.text and "Download subject data" not in record.text


def test_the_callback_cannot_be_replayed_or_forged(entra_client: TestClient) -> None:
    callback = _authorize(entra_client)
    forged = callback.replace("state=", "state=x")
    refused = entra_client.get(forged)
    assert refused.status_code == 400 and "not the one we started" in refused.text
    # The attempt was used up by the forged call: the genuine one no longer works either.
    again = entra_client.get(callback)
    assert again.status_code == 400
    assert _staff_cookies(again) == []


@pytest.mark.parametrize(
    ("misbehave", "message"),
    [
        ({"nonce": "another"}, "could not be verified"),
        ({"aud": "someone-else"}, "could not be verified"),
        ({"iss": "https://evil.example/v2.0"}, "could not be verified"),
        ({"exp": 1_000}, "could not be verified"),
        ("wrong-key", "could not be verified"),
        ("token-refused", "refused the sign-in"),
    ],
)
def test_a_bad_id_token_or_token_answer_is_refused(
    entra_client: TestClient, entra: FakeEntraId, misbehave: Any, message: str
) -> None:
    if misbehave == "wrong-key":
        entra.sign_with = FakeEntraId().key
    elif misbehave == "token-refused":
        entra.token_status = 400
    else:
        entra.id_token_claims = misbehave
    answer = entra_client.get(_authorize(entra_client))
    assert answer.status_code == 400
    assert message in answer.text and "Staff sign-in" in answer.text
    assert _staff_cookies(answer) == []


def test_the_provider_rotating_its_key_is_followed(
    entra_client: TestClient, entra: FakeEntraId
) -> None:
    assert entra_client.get(_authorize(entra_client)).status_code == 303
    entra.rotate_key()
    assert entra_client.get(_authorize(entra_client)).status_code == 303
    assert entra.jwks_requests == 2


@pytest.mark.parametrize(
    "query",
    ["error=access_denied&error_description=<script>", "error=server_error", "",
     "code=abc", "state=abc", "code=" + "x" * 5000 + "&state=y"],
)  # fmt: skip
def test_odd_callbacks_are_explained(entra_client: TestClient, query: str) -> None:
    entra_client.get("/admin/sign-in")
    answer = entra_client.get(f"/admin/signed-in?{query}")
    assert answer.status_code == 400
    assert "Sign-in did not work" in answer.text and "<script>" not in answer.text


def test_an_unreachable_provider_is_explained(tmp_path: Path) -> None:
    settings = IntakeUiSettings(
        environment="test", INTAKE_DATA_DIR=tmp_path,
        admin_oidc_authority=f"http://127.0.0.1:{free_port()}/tenant", admin_oidc_client_id="x",
    )  # fmt: skip
    app = create_app(settings, deps=IntakeApiClient(httpx.AsyncClient()))
    with TestClient(app, follow_redirects=False) as client:
        answer = client.get("/admin/sign-in")
        assert answer.status_code == 503 and "could not reach Microsoft Entra ID" in answer.text


def test_oidc_settings_must_be_complete_and_https_outside_dev() -> None:
    with pytest.raises(ValueError, match="both"):
        IntakeUiSettings(admin_oidc_authority="https://login.microsoftonline.com/t")
    prod = {"environment": "prod", "UI_SESSION_SECRET": "s" * 40, "admin_oidc_client_id": "c"}
    with pytest.raises(ValueError, match="https"):
        IntakeUiSettings(**prod, admin_oidc_authority="http://login.example/t",
                         admin_oidc_redirect_url="https://ui.example/admin/signed-in")  # fmt: skip
    with pytest.raises(ValueError, match="ADMIN_OIDC_REDIRECT_URL"):
        IntakeUiSettings(**prod, admin_oidc_authority="https://login.example/t")
    settings = IntakeUiSettings(**prod, admin_oidc_authority="https://login.example/t",
                                admin_oidc_redirect_url="https://ui.example/admin/signed-in")  # fmt: skip
    assert settings.staff_sign_in_configured


def test_an_htmx_search_after_the_session_ended_reloads_to_sign_in(
    admin_client: TestClient,
) -> None:
    answer = admin_client.post("/admin", data={"q": "x"}, headers={"HX-Request": "true"})
    assert answer.headers["hx-redirect"] == "/admin"
    assert admin_client.get("/admin", headers={"HX-Request": "true"}).headers["hx-redirect"] == (
        "/admin"
    )
