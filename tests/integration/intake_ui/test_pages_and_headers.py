"""Headers, static assets, status lookup, admin, inline field checks, and an intake-api that
is really down or slow: that last group serves the fake with a real uvicorn on a free port."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from bs4 import BeautifulSoup
from intake_ui_testkit import (
    COMPANY,
    ENGAGEMENT,
    FakeIntakeApi,
    Scripted,
    ServerThread,
    csrf_of,
    free_port,
    post,
    start,
)
from starlette.testclient import TestClient

from intake_ui.app import create_app
from intake_ui.intake_api import IntakeApiClient
from intake_ui.security import CONTENT_SECURITY_POLICY
from intake_ui.settings import IntakeUiSettings

PAGES = ["/", "/status", "/privacy", "/admin", "/nope", "/submitted/CL-0000-0000-0000"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_csp_and_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and "<style" not in response.text
    assert " style=" not in response.text and " on" + "click=" not in response.text


def test_pages_load_only_fingerprinted_local_assets(client: TestClient) -> None:
    html = client.get("/").text
    urls = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assets = [url for url in urls if url.startswith("/static/")]
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", url) for url in assets} == {
        "/static/favicon.svg", "/static/vendor/pico.min.css", "/static/app.css",
        "/static/vendor/htmx.min.js", "/static/app.js",
    }  # fmt: skip
    assert not [url for url in urls if "//" in url]
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "set-cookie" not in response.headers
        assert response.headers["etag"]
        assert (
            client.get(url, headers={"if-none-match": response.headers["etag"]}).status_code == 304
        )
    meta = BeautifulSoup(html, "html.parser").find("meta", attrs={"name": "htmx-config"})
    assert '"allowEval": false' in meta["content"] and '"selfRequestsOnly": true' in meta["content"]


def test_unknown_or_stale_assets_are_404(client: TestClient) -> None:
    assert client.get("/static/app.css").status_code == 404
    assert client.get("/static/app.000000000000.css").status_code == 404
    assert client.get("/static/../settings.py").status_code == 404


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_privacy_notice_is_versioned(client: TestClient) -> None:
    assert "Version 2026-01" in client.get("/privacy").text


def test_privacy_notice_says_where_to_write_about_your_data(client: TestClient) -> None:
    contact = BeautifulSoup(client.get("/privacy").text, "html.parser").find(id="privacy-contact")
    assert contact["href"] == "mailto:privacy@consultancy.example"
    assert contact.get_text(strip=True) == "privacy@consultancy.example"


def test_the_privacy_contact_is_a_setting_checked_as_an_email_address() -> None:
    settings = IntakeUiSettings(environment="test", PRIVACY_CONTACT_EMAIL="DPO@Example.COM")
    app = create_app(settings, deps=IntakeApiClient(httpx.AsyncClient()))
    with TestClient(app) as client:
        contact = BeautifulSoup(client.get("/privacy").text, "html.parser").find(
            id="privacy-contact"
        )
    assert contact["href"] == "mailto:DPO@example.com"
    for wrong in ("privacy", "a@b@example.com", "dpo@example.com\nBcc: x@example.com"):
        with pytest.raises(ValueError, match="not a valid email address"):
            IntakeUiSettings(environment="test", PRIVACY_CONTACT_EMAIL=wrong)


def test_the_confirmation_says_no_email_is_sent_so_keep_the_client_id(client: TestClient) -> None:
    page = BeautifulSoup(client.get("/submitted/CL-0000-0000-0000").text, "html.parser")
    keep = page.find(id="keep-client-id").get_text(" ", strip=True)
    assert "We do not send you an email" in keep
    assert "check the status" in keep and "Check your status" in keep


def _title(client: TestClient, path: str) -> str:
    return BeautifulSoup(client.get(path).text, "html.parser").title.get_text()


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/", "Step 1 of 2: your company"),
        ("/status", "Check your status"),
        ("/privacy", "Privacy notice"),
        ("/submitted/CL-0000-0000-0000", "Request sent"),
        ("/nope", "Page not found"),
    ],
)
def test_every_public_page_title_is_the_page_then_the_site(
    client: TestClient, path: str, page: str
) -> None:
    assert _title(client, path) == f"{page} \N{EN DASH} Client onboarding"


def test_the_status_link_the_heading_and_the_confirmation_use_the_same_words(
    client: TestClient,
) -> None:
    status = BeautifulSoup(client.get("/status").text, "html.parser")
    assert status.select_one("header a[href='/status']").get_text(strip=True) == "Check your status"
    assert status.h1.get_text(strip=True) == "Check your status"
    sent = BeautifulSoup(client.get("/submitted/CL-0000-0000-0000").text, "html.parser")
    assert sent.select_one("main a[href='/status']").get_text(strip=True) == "Check your status"


def test_the_intro_and_the_confirmation_count_the_same_two_steps(client: TestClient) -> None:
    intro = BeautifulSoup(client.get("/").text, "html.parser")
    assert "Two short steps" in intro.main.get_text()
    sent = BeautifulSoup(client.get("/submitted/CL-0000-0000-0000").text, "html.parser")
    steps = sent.select_one("ol.steps")
    assert steps["aria-label"] == "Both steps done" and len(steps.find_all("li")) == 2
    assert "3" not in steps.get_text() and "Sent" not in steps.get_text()


@pytest.mark.parametrize("htmx", [False, True])
def test_inline_validation_returns_just_the_field(client: TestClient, htmx: bool) -> None:
    csrf = start(client)
    data = {**COMPANY, "company.contact.email": "nope", "csrf_token": csrf}
    response = post(client, "/fields/company.contact.email", data, htmx=True)
    field = BeautifulSoup(response.text, "html.parser").find("div", class_="field")
    assert field["id"] == "company-contact-email-field"
    assert field["hx-target"] == "this" and field["hx-swap"] == "outerHTML"
    assert field.find("input")["aria-invalid"] == "true"
    assert field.find("input")["value"] == "nope"
    fine = post(client, "/fields/company.contact.email", {**COMPANY, "csrf_token": csrf}, htmx=True)
    assert "aria-invalid" not in fine.text
    unknown = post(client, "/fields/company.secret", {"csrf_token": csrf}, htmx=True)
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "name",
    ["company.secret", "csrf_token", "__class__", "company.name<script>", "a" * 5_000, "%00",
     "../company.name", "company..name"],
)  # fmt: skip
def test_an_unknown_field_name_is_404_and_not_echoed(client: TestClient, name: str) -> None:
    csrf = start(client)
    response = post(client, f"/fields/{quote(name, safe='')}", {"csrf_token": csrf}, htmx=True)
    assert response.status_code == 404
    assert name not in response.text and "<script>" not in response.text


@pytest.mark.parametrize(
    "client_id",
    ["CL-0000-0000-0001", "<script>alert(1)</script>", "CL-" + "0" * 5_000, "%00", "CL-0000",
     "../admin"],
)  # fmt: skip
def test_the_sent_page_of_a_mistyped_or_hostile_id_is_404_and_not_echoed(
    client: TestClient, client_id: str
) -> None:
    response = client.get(f"/submitted/{quote(client_id, safe='')}")
    assert response.status_code == 404
    assert client_id not in response.text and "<script>alert" not in response.text


def test_the_sent_page_reads_an_id_as_typed(client: TestClient) -> None:
    """Lower case, O for 0 and no hyphens: the same Client ID, shown in its canonical form."""
    response = client.get("/submitted/cl0000o0000000")
    assert response.status_code == 200
    assert "CL-0000-0000-0000" in response.text


def test_inline_validation_judges_the_phone_with_the_country(client: TestClient) -> None:
    csrf = start(client)
    data = {**COMPANY, "company.contact.phone": "020 7946 0958", "csrf_token": csrf}
    assert "aria-invalid" not in post(client, "/fields/company.contact.phone", data, htmx=True).text
    data["company.address.country"] = "US"
    assert "aria-invalid" in post(client, "/fields/company.contact.phone", data, htmx=True).text


def _submit(client: TestClient) -> str:
    csrf = start(client)
    page = post(client, "/project", {**COMPANY, "csrf_token": csrf}).text
    key = re.search(r'name="idempotencyKey" value="([^"]+)"', page).group(1)
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
    return post(client, "/send", data).headers["location"].removeprefix("/submitted/")


def test_status_lookup_shows_the_status(client: TestClient) -> None:
    client_id = _submit(client)
    csrf = csrf_of(client.get("/status").text)
    typed = client_id.lower().replace("-", "")
    response = post(client, "/status", {"clientId": typed, "email": "ada@example.com",
                                        "csrf_token": csrf}, htmx=True)  # fmt: skip
    assert response.status_code == 200
    assert "Received" in response.text


def test_status_lookup_not_found_is_neutral(client: TestClient) -> None:
    client_id = _submit(client)
    csrf = csrf_of(client.get("/status").text)
    response = post(client, "/status", {"clientId": client_id, "email": "eve@example.com",
                                        "csrf_token": csrf})  # fmt: skip
    assert "could not find a request with that Client ID and email" in response.text


def test_status_lookup_validates_before_asking(client: TestClient, fake_api: FakeIntakeApi) -> None:
    csrf = csrf_of(client.get("/status").text)
    response = post(client, "/status", {"clientId": "CL-0000-0000-0001", "email": "x",
                                        "csrf_token": csrf})  # fmt: skip
    assert response.status_code == 422
    assert "email address like" in response.text
    message = BeautifulSoup(response.text, "html.parser").find(id="clientId-error")
    assert message.get_text(strip=True) == (
        "This Client ID has a typo: a letter or digit in it is wrong. "
        "Check it against the one shown when you sent your request."
    )
    assert "check symbol" not in response.text
    assert fake_api.arrivals == []


def test_status_lookup_asks_for_the_shape_of_a_client_id(client: TestClient) -> None:
    csrf = csrf_of(client.get("/status").text)
    response = post(client, "/status", {"clientId": "12345", "email": "a@example.com",
                                        "csrf_token": csrf})  # fmt: skip
    message = BeautifulSoup(response.text, "html.parser").find(id="clientId-error")
    assert message.get_text(strip=True) == "Enter a Client ID like CL-XXXX-XXXX-XXXX."


def test_status_lookup_throttled(client: TestClient, fake_api: FakeIntakeApi) -> None:
    fake_api.script(Scripted(429, headers={"Retry-After": "7"}))
    csrf = csrf_of(client.get("/status").text)
    response = post(client, "/status", {"clientId": "CL-0000-0000-0000", "email": "a@example.com",
                                        "csrf_token": csrf})  # fmt: skip
    assert response.status_code == 429 and "wait 7 seconds" in response.text


def test_admin_without_a_session_shows_sign_in_with_dev_sign_in(client: TestClient) -> None:
    # Signing in and out: tests/integration/intake_ui/test_admin_sign_in.py
    page = client.get("/admin")
    assert "Entra ID" in page.text and "Dev sign-in" in page.text
    assert csrf_of(page.text)


def test_admin_outside_dev_offers_no_dev_sign_in(fake_api: FakeIntakeApi) -> None:
    settings = IntakeUiSettings(environment="prod", UI_SESSION_SECRET="s" * 40)
    app = create_app(settings, deps=IntakeApiClient(httpx.AsyncClient()))
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/admin")
        assert "Entra ID" in page.text and "Dev sign-in" not in page.text
        assert page.headers["strict-transport-security"].startswith("max-age=")
        form = client.get("/")
        # __Host-: Secure, Path=/ and no Domain, so no sibling subdomain can plant it.
        cookie = form.headers["set-cookie"].lower()
        assert cookie.startswith("__host-intake_ui_session=")
        assert "; secure" in cookie and "; path=/;" in cookie and "domain=" not in cookie
        client.cookies.set("__Host-intake_ui_session", form.cookies["__Host-intake_ui_session"])
        refused = post(client, "/admin/dev-sign-in", {"csrf_token": csrf_of(form.text)})
        assert refused.status_code == 404


def test_the_session_cookie_holds_no_personal_data(client: TestClient) -> None:
    _submit(client)
    app = client.app
    session = app.decode_session(client.cookies.get("intake_ui_session"))
    assert set(session) == {"csrf"}


def _real_api_client(url: str, timeout: float) -> IntakeApiClient:
    http = httpx.AsyncClient(base_url=url, timeout=timeout)
    return IntakeApiClient(http, attempts=2, max_wait_seconds=0.01)


def test_a_slow_intake_api_keeps_input_and_a_retry_reuses_the_key() -> None:
    fake = FakeIntakeApi()
    fake.script(Scripted(0, delay_seconds=1.0), Scripted(0, delay_seconds=1.0))
    with ServerThread(fake.app()) as server:
        app = create_app(
            IntakeUiSettings(environment="test"), deps=_real_api_client(server.url, 0.3)
        )
        with TestClient(app, follow_redirects=False) as client:
            csrf = start(client)
            page = post(client, "/project", {**COMPANY, "csrf_token": csrf}).text
            key = re.search(r'name="idempotencyKey" value="([^"]+)"', page).group(1)
            data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
            slow = post(client, "/send", data)
            assert slow.status_code == 503
            assert "Ada Lovelace" in slow.text and key in slow.text
            again = post(client, "/send", data)
            assert again.status_code == 303
    keys = {arrival.idempotency_key for arrival in fake.submissions()}
    assert keys == {key}
    # The slow requests may have completed on the server: still one record for the key.
    assert len(fake.by_key) == 1


def test_an_unreachable_intake_api_keeps_input() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = create_app(IntakeUiSettings(environment="test"), deps=_real_api_client(url, 0.5))
    with TestClient(app, follow_redirects=False) as client:
        csrf = start(client)
        data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": "", "csrf_token": csrf}
        response = post(client, "/send", data)
        assert response.status_code == 503
        assert "not responding" in response.text
        assert re.search(r'name="idempotencyKey" value="[0-9a-f-]{36}"', response.text)


def test_metrics_count_requests_by_route_and_show_the_breakers(client) -> None:
    client.get("/")
    client.get("/status")
    client.get("/no-such-page-" + "x" * 50)
    exposition = client.get("/metrics")
    assert exposition.status_code == 200
    text = exposition.text
    assert 'http_requests_total{method="GET",route="/",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "no-such-page" not in text  # raw paths never become series
    assert 'ui_dependency_breaker_open{dependency="intake-api"} 0.0' in text


def test_staff_page_titles_are_the_page_then_the_staff_site(admin_client: TestClient) -> None:
    from intake_ui_admin_testkit import dev_sign_in

    assert _title(admin_client, "/admin") == "Staff sign-in \N{EN DASH} Client onboarding · Staff"
    dev_sign_in(admin_client)
    assert _title(admin_client, "/admin") == "Submissions \N{EN DASH} Client onboarding · Staff"
