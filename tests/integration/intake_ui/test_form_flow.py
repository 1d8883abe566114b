"""Routes of the two-step form against a fake intake-api served through httpx.ASGITransport."""

from __future__ import annotations

import re
import uuid

import pytest
from bs4 import BeautifulSoup
from intake_ui_testkit import COMPANY, ENGAGEMENT, FakeIntakeApi, Scripted, post, start
from starlette.testclient import TestClient

from intake_core.domain.client_id import is_client_id
from support.asgi_exchange import leave_mid_body


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def value_of(page: BeautifulSoup, name: str) -> str | None:
    element = page.find(attrs={"name": name})
    if element is None:
        return None
    if element.name == "textarea":
        return element.text
    if element.name == "select":
        chosen = element.find("option", selected=True)
        return chosen["value"] if chosen else None
    if element.get("type") == "checkbox":
        return element.get("value") if element.has_attr("checked") else ""
    return element.get("value")


def error_of(page: BeautifulSoup, name: str) -> str | None:
    element = page.find(attrs={"name": name})
    assert element is not None, name
    described = element.get("aria-describedby", "")
    error_id = next((i for i in described.split() if i.endswith("-error")), None)
    if error_id is None:
        return None
    assert element.get("aria-invalid") == "true"
    return page.find(id=error_id).get_text(strip=True)


def step_two(client: TestClient) -> tuple[str, BeautifulSoup]:
    csrf = start(client)
    response = post(client, "/project", {**COMPANY, "csrf_token": csrf})
    assert response.status_code == 200
    return csrf, soup(response.text)


def test_the_first_page_is_step_one_with_a_label_for_every_field(client: TestClient) -> None:
    page = soup(client.get("/").text)
    assert page.find("li", attrs={"aria-current": "step"}).get_text(" ", strip=True).startswith("1")
    for name in COMPANY:
        control = page.find(attrs={"name": name})
        assert control is not None, name
        assert page.find("label", attrs={"for": control["id"]}), name


@pytest.mark.parametrize("htmx", [False, True])
def test_step_one_errors_keep_everything_typed(client: TestClient, htmx: bool) -> None:
    csrf = start(client)
    typed = {**COMPANY, "company.contact.email": "not-an-email", "company.name": ""}
    response = post(client, "/project", {**typed, "csrf_token": csrf}, htmx=htmx)

    assert response.status_code == 422
    page = soup(response.text)
    assert (page.find("html") is None) == htmx, "htmx gets just the form, a browser a page"
    assert error_of(page, "company.name") == "Enter the company name."
    assert "email address like" in error_of(page, "company.contact.email")
    assert error_of(page, "company.address.city") is None
    for name, value in typed.items():
        assert value_of(page, name) == value, name
    assert page.find(attrs={"role": "alert"}) is not None


def test_a_valid_step_one_shows_step_two_carrying_step_one(client: TestClient) -> None:
    _, page = step_two(client)
    assert page.find("li", attrs={"aria-current": "step"}).get_text(" ", strip=True).startswith("2")
    for name, value in COMPANY.items():
        hidden = page.find("input", attrs={"name": name, "type": "hidden"})
        if value:
            assert hidden is not None and hidden["value"] == value, name
    key = page.find("input", attrs={"name": "idempotencyKey"})["value"]
    assert uuid.UUID(key)
    assert page.find("a", href="/privacy") is not None


def test_back_and_forth_loses_nothing(client: TestClient) -> None:
    csrf, page = step_two(client)
    key = value_of(page, "idempotencyKey")
    answers = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
    back = soup(post(client, "/company", answers).text)
    for name, value in {**COMPANY, **ENGAGEMENT}.items():
        assert value_of(back, name) == value, name
    forth = soup(post(client, "/project", {**answers}).text)
    for name, value in {**COMPANY, **ENGAGEMENT}.items():
        assert value_of(forth, name) == value, name
    assert value_of(forth, "idempotencyKey") == key


@pytest.mark.parametrize("htmx", [False, True])
def test_a_successful_submit_sends_the_key_and_shows_the_client_id(
    client: TestClient, fake_api: FakeIntakeApi, htmx: bool
) -> None:
    csrf, page = step_two(client)
    key = value_of(page, "idempotencyKey")
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
    response = post(client, "/send", data, htmx=htmx)

    location = response.headers["hx-redirect" if htmx else "location"]
    assert response.status_code == (200 if htmx else 303)
    client_id = location.removeprefix("/submitted/")
    assert is_client_id(client_id)
    [arrival] = fake_api.submissions()
    assert arrival.idempotency_key == key
    # intake-api rate-limits per browser, so the UI says whose request it forwards.
    assert arrival.forwarded_for == "testclient"
    # Its audit entry keeps the browser's user agent, not the UI's own HTTP client's.
    assert arrival.user_agent == "testclient"
    assert arrival.body["company"]["contact"]["phone"] == "+442079460958"
    assert arrival.body["consent"] == {"accepted": True, "privacyNoticeVersion": "2026-01"}
    assert "line2" not in arrival.body["company"]["address"]

    done = soup(client.get(location).text)
    assert done.find(id="client-id").get_text(strip=True) == client_id
    assert done.find("button", attrs={"data-copy-target": "client-id"}).has_attr("hidden")


def test_step_two_errors_keep_everything(client: TestClient, fake_api: FakeIntakeApi) -> None:
    csrf, page = step_two(client)
    data = {**COMPANY, **ENGAGEMENT, "consent.accepted": "", "engagement.scope": "  ",
            "idempotencyKey": value_of(page, "idempotencyKey"), "csrf_token": csrf}  # fmt: skip
    response = post(client, "/send", data)
    assert response.status_code == 422
    page = soup(response.text)
    assert "privacy notice" in error_of(page, "consent.accepted")
    assert error_of(page, "engagement.scope") == "Enter the scope."
    assert value_of(page, "engagement.timeline") == "1-3-months"
    assert fake_api.submissions() == []


def test_api_422_is_shown_next_to_the_field(client: TestClient, fake_api: FakeIntakeApi) -> None:
    fake_api.script(
        Scripted(422, {"errors": [{"path": "company.contact.email", "message": "Taken?"}]})
    )
    csrf, page = step_two(client)
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": value_of(page, "idempotencyKey"),
            "csrf_token": csrf}  # fmt: skip
    response = post(client, "/send", data, htmx=True)
    assert response.status_code == 422
    page = soup(response.text)
    assert error_of(page, "company.contact.email") == "Taken?"
    assert value_of(page, "company.contact.email") == "ada@example.com"
    assert value_of(page, "engagement.scope") == ENGAGEMENT["engagement.scope"]


def test_api_422_on_a_step_two_field(client: TestClient, fake_api: FakeIntakeApi) -> None:
    fake_api.script(Scripted(422, {"errors": [{"path": "/engagement/scope", "message": "No."}]}))
    csrf, page = step_two(client)
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": value_of(page, "idempotencyKey"),
            "csrf_token": csrf}  # fmt: skip
    page = soup(post(client, "/send", data).text)
    assert error_of(page, "engagement.scope") == "No."


def test_429_asks_to_wait(client: TestClient, fake_api: FakeIntakeApi) -> None:
    fake_api.script(Scripted(429, {"title": "Too Many Requests"}, {"Retry-After": "42"}))
    csrf, page = step_two(client)
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": value_of(page, "idempotencyKey"),
            "csrf_token": csrf}  # fmt: skip
    response = post(client, "/send", data)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "42"
    assert "wait 42 seconds" in response.text
    assert value_of(soup(response.text), "engagement.scope") == ENGAGEMENT["engagement.scope"]


def test_503_is_retried_with_the_same_key_then_succeeds(
    client: TestClient, fake_api: FakeIntakeApi
) -> None:
    fake_api.script(Scripted(503, {"title": "Unavailable"}, {"Retry-After": "1"}))
    csrf, page = step_two(client)
    key = value_of(page, "idempotencyKey")
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
    response = post(client, "/send", data)
    assert response.status_code == 303
    assert [a.idempotency_key for a in fake_api.submissions()] == [key, key]


def test_persistent_503_keeps_input_and_a_resubmit_reuses_the_key(
    client: TestClient, fake_api: FakeIntakeApi
) -> None:
    fake_api.script(*[Scripted(503)] * 3)
    csrf, page = step_two(client)
    key = value_of(page, "idempotencyKey")
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
    response = post(client, "/send", data)

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0  # as DESIGN.md has it for a store outage
    page = soup(response.text)
    assert "not responding" in page.find(attrs={"role": "alert"}).get_text()
    for name, value in {**COMPANY, **ENGAGEMENT}.items():
        assert value_of(page, name) == value, name
    assert value_of(page, "idempotencyKey") == key

    again = post(client, "/send", {**data, "idempotencyKey": value_of(page, "idempotencyKey")})
    assert again.status_code == 303
    assert {a.idempotency_key for a in fake_api.submissions()} == {key}
    assert len(fake_api.records) == 1


def test_a_resubmit_after_success_gives_the_same_client_id(
    client: TestClient, fake_api: FakeIntakeApi
) -> None:
    csrf, page = step_two(client)
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": value_of(page, "idempotencyKey"),
            "csrf_token": csrf}  # fmt: skip
    first = post(client, "/send", data).headers["location"]
    second = post(client, "/send", data).headers["location"]
    assert first == second
    assert len(fake_api.records) == 1


def test_409_offers_a_fresh_key(client: TestClient, fake_api: FakeIntakeApi) -> None:
    fake_api.script(Scripted(409, {"title": "Conflict"}))
    csrf, page = step_two(client)
    key = value_of(page, "idempotencyKey")
    data = {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf}
    response = post(client, "/send", data)
    assert response.status_code == 409
    new_key = value_of(soup(response.text), "idempotencyKey")
    assert new_key and new_key != key


def test_the_honeypot_fakes_success_without_submitting(
    client: TestClient, fake_api: FakeIntakeApi
) -> None:
    csrf, _ = step_two(client)
    data = {**COMPANY, **ENGAGEMENT, "website": "http://spam.example", "csrf_token": csrf}
    response = post(client, "/send", data)
    assert response.status_code == 303
    assert is_client_id(response.headers["location"].removeprefix("/submitted/"))
    assert fake_api.arrivals == []


@pytest.mark.parametrize("path", ["/project", "/company", "/send", "/status",
                                  "/fields/company.name", "/admin/dev-sign-in"])  # fmt: skip
@pytest.mark.parametrize("token", [None, "", "forged-token-forged-token-forged-token"])
def test_posts_without_a_valid_csrf_token_are_refused(
    client: TestClient, fake_api: FakeIntakeApi, path: str, token: str | None
) -> None:
    start(client)
    data = {**COMPANY, **ENGAGEMENT}
    if token is not None:
        data["csrf_token"] = token
    response = post(client, path, data)
    assert response.status_code == 403
    if path in ("/project", "/company", "/send"):
        # The form's own routes send the form back, answers kept, with a fresh token.
        page = soup(response.text)
        assert value_of(page, "company.name") == COMPANY["company.name"]
        assert value_of(page, "csrf_token") not in (None, "", token)
        assert response.headers["intake-form-kept"] == "true"
    else:
        assert "expired" in response.text
    assert fake_api.arrivals == []


@pytest.mark.parametrize("htmx", [False, True])
def test_an_expired_session_keeps_the_answers_and_a_resend_works(
    client: TestClient, fake_api: FakeIntakeApi, htmx: bool
) -> None:
    csrf, page = step_two(client)
    answers = {**COMPANY, **ENGAGEMENT, "idempotencyKey": value_of(page, "idempotencyKey")}
    client.cookies.clear()  # expired, or cleared by the user
    refused = post(client, "/send", {**answers, "csrf_token": csrf}, htmx=htmx)
    assert refused.status_code == 403
    kept = soup(refused.text)
    assert "Your answers are kept" in kept.get_text()
    assert "Please press the button again" in kept.get_text()
    for name, value in answers.items():
        assert value_of(kept, name) == value, name
    assert fake_api.arrivals == []
    again = {**answers, "csrf_token": value_of(kept, "csrf_token"), "cookieCheck": "1"}
    sent = post(client, "/send", again, htmx=htmx)
    assert sent.status_code == (200 if htmx else 303)
    [arrival] = fake_api.submissions()
    assert arrival.idempotency_key == answers["idempotencyKey"]


def test_blocked_cookies_are_named_as_such(client: TestClient) -> None:
    csrf = start(client)
    client.cookies.clear()
    first = soup(post(client, "/project", {**COMPANY, "csrf_token": csrf}).text)
    assert value_of(first, "cookieCheck") == "1"
    client.cookies.clear()  # the browser did not keep the cookie we set
    again = {**COMPANY, "csrf_token": value_of(first, "csrf_token"), "cookieCheck": "1"}
    second = post(client, "/project", again)
    assert second.status_code == 403
    text = soup(second.text).get_text()
    assert "blocking our cookie" in text and "expired" not in text
    assert value_of(soup(second.text), "company.name") == COMPANY["company.name"]


def test_a_token_from_another_session_is_refused(
    client: TestClient, fake_api: FakeIntakeApi
) -> None:
    csrf = start(client)
    client.cookies.clear()
    start(client)
    assert post(client, "/project", {**COMPANY, "csrf_token": csrf}).status_code == 403


def test_hostile_input_is_shown_escaped(client: TestClient) -> None:
    csrf = start(client)
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = post(client, "/project", {**COMPANY, "company.name": hostile,
                                         "company.contact.email": hostile, "csrf_token": csrf})  # fmt: skip
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "<img src=x" not in response.text
    page = soup(response.text)
    assert value_of(page, "company.name") == hostile
    assert page.find("script", string=re.compile("alert")) is None


# Plain text that looks like an attack is accepted (and neutralised wherever it is output);
# the rest is refused: too long, a line break, a bidi override, a NUL, a blank name.
ACCEPTED_ODD_TEXT = ("%00", "=HYPERLINK()")


@pytest.mark.parametrize(
    "value",
    ["a" * 20_001, "line\r\nbreak", "\u202eevil", "\x00", "😀" * 300, "　", *ACCEPTED_ODD_TEXT],
)
def test_odd_input_gets_a_clear_answer_on_every_page(
    client: TestClient, fake_api: FakeIntakeApi, value: str
) -> None:
    csrf = start(client)
    refused = value not in ACCEPTED_ODD_TEXT
    expected = {
        "/project": 422 if refused else 200,  # step 1 checked again before step 2
        "/company": 200,  # Back: the answers shown again as they are, unchecked
        "/send": 422 if refused else 303,
        "/fields/company.name": 200,  # the field's own check: an error beside it, or none
        "/status": 422,  # no Client ID looks like any of these
    }
    for path, status in expected.items():
        data = {**COMPANY, **ENGAGEMENT, "company.name": value, "engagement.scope": value,
                "clientId": value, "email": value, "idempotencyKey": value, "csrf_token": csrf}  # fmt: skip
        response = post(client, path, data)
        assert response.status_code == status, (path, response.status_code)
        if path == "/fields/company.name":
            assert (soup(response.text).find(class_="field-error") is not None) == refused
    if refused:
        assert fake_api.submissions() == []
    else:
        [arrival] = fake_api.submissions()
        assert arrival.body["company"]["name"] == value
        assert arrival.body["engagement"]["scope"] == value


def test_oversized_bodies_get_413(client: TestClient) -> None:
    csrf = start(client)
    response = post(
        client, "/project", {**COMPANY, "company.name": "x" * 300_000, "csrf_token": csrf}
    )
    assert response.status_code == 413
    assert "Too much text" in response.text


def test_oversized_bodies_without_a_length_get_the_413_page(client: TestClient) -> None:
    csrf = start(client)
    form = f"csrf_token={csrf}&company.name=".encode()

    def chunked():
        yield form
        for _ in range(300):
            yield b"x" * 1024

    response = client.post(
        "/project",
        content=chunked(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "Too much text" in response.text
    assert response.headers["content-security-policy"]


def test_a_malformed_content_length_gets_the_400_page(client: TestClient) -> None:
    response = client.post("/status", content=b"a=b", headers={"content-length": "3x"})
    assert response.status_code == 400
    assert "Something went wrong with that form" in response.text


async def test_a_client_that_leaves_mid_form_is_no_server_error(client: TestClient) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded", "content-length": "500"}
    assert await leave_mid_body(client.app, "POST", "/project", headers) == []
    metrics = client.get("/metrics").text
    assert 'status="499"' in metrics  # before routing: the route is "unmatched"
    assert 'status="500"' not in metrics


def test_multipart_and_json_bodies_are_handled(client: TestClient) -> None:
    csrf = start(client)
    multipart = client.post("/project", data={**COMPANY, "csrf_token": csrf},
                            files={"company.name": ("a.txt", b"file")})  # fmt: skip
    assert multipart.status_code == 422
    as_json = client.post("/project", json={**COMPANY, "csrf_token": csrf})
    assert as_json.status_code < 500
    garbage = client.post(
        "/project",
        content=b"\xff\xfe%%%",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert garbage.status_code == 403


def test_each_step_has_an_address_without_answers_in_it(client: TestClient) -> None:
    csrf = start(client)
    moved = post(client, "/project", {**COMPANY, "csrf_token": csrf}, htmx=True)
    assert moved.headers["hx-push-url"] == "/project"
    back = post(client, "/company", {**COMPANY, "csrf_token": csrf}, htmx=True)
    assert back.headers["hx-push-url"] == "/"
    # Step 2 resumed at its own address (a reload): replace, not push, the history entry.
    resumed = client.post(
        "/project",
        data={**COMPANY, "csrf_token": csrf},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/project"},
    )
    assert resumed.headers["hx-replace-url"] == "/project"
    refused = post(client, "/project", {"csrf_token": csrf}, htmx=True)
    assert refused.status_code == 422 and refused.headers["hx-replace-url"] == "/"
    # The address of step 2, loaded again: the server has no answers, step 1 takes them back.
    page = client.get("/project")
    assert page.status_code == 200
    assert soup(page.text).find(id="wizard")["data-restore"] == "resume"
    assert page.headers["cache-control"] == "no-store"


def test_without_javascript_a_step_holding_answers_is_never_stored(client: TestClient) -> None:
    csrf = start(client)
    page = post(client, "/project", {**COMPANY, "csrf_token": csrf})
    # The step shows what was typed: not kept in the browser's cache once the tab is closed.
    assert page.headers["cache-control"] == "no-store"
    assert "hx-push-url" not in page.headers


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_step_one_flags_every_missing_field(client: TestClient, blank: str) -> None:
    csrf = start(client)
    empty = {name: blank for name in COMPANY}
    page = soup(post(client, "/project", {**empty, "csrf_token": csrf}).text)
    required = [n for n in COMPANY if n not in ("company.address.line2", "company.address.region")]
    for name in required:
        assert error_of(page, name), name
    assert "10 answers need your attention" in page.get_text()
    assert error_of(page, "company.address.line1") == "Enter the first line of the address."
    assert error_of(page, "company.address.city") == "Enter the town or city."
    assert error_of(page, "company.contact.email") == "Enter the email address."


def test_the_consent_label_is_plain_and_the_notice_version_is_still_recorded(
    client: TestClient, fake_api: FakeIntakeApi
) -> None:
    csrf, page = step_two(client)
    label = page.find("label", attrs={"for": "consent-accepted"}).get_text(" ", strip=True)
    assert label == "I have read and accept the privacy notice"
    inline = post(client, "/fields/consent.accepted", {"csrf_token": csrf}, htmx=True)
    assert "version" not in soup(inline.text).find("label").get_text()
    key = value_of(page, "idempotencyKey")
    post(client, "/send", {**COMPANY, **ENGAGEMENT, "idempotencyKey": key, "csrf_token": csrf})
    [arrival] = fake_api.submissions()
    assert arrival.body["consent"]["privacyNoticeVersion"] == "2026-01"
