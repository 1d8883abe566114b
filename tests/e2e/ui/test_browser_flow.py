"""Chromium fills the form by label text, with and without JavaScript, under the real CSP."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from intake_core.domain.client_id import new_client_id
from intake_core.domain.models import SubmissionCreate
from support import VALID_BODY
from support.form_pages import fill_company_step, fill_engagement_step

pytestmark = pytest.mark.e2e

CLIENT_ID = re.compile(r"CL-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


# Console errors a correct page may log: the browser notes the deliberate 422, and htmx logs
# an inline field check it cancelled because a newer check of the same field replaced it.
EXPECTED_CONSOLE_ERRORS = re.compile(r"status of 422|^htmx:(sendAbort|afterRequest)")


class Watcher:
    """Records requests to any other host, CSP violations, script errors, odd console errors."""

    def __init__(self, page: Any, origin: str) -> None:
        self.host = urlsplit(origin).netloc
        self.foreign: list[str] = []
        self.csp_violations: list[str] = []
        self.script_errors: list[str] = []
        self.other_errors: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def _request(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme != "data" and url.netloc != self.host:
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp_violations.append(text)
        elif message.type == "error" and not EXPECTED_CONSOLE_ERRORS.search(text):
            self.other_errors.append(text)

    def assert_clean(self) -> None:
        assert self.foreign == []
        assert self.csp_violations == []
        assert self.script_errors == []
        assert self.other_errors == []


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"


def _axe(page: Any) -> list[str]:
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    ("javascript", "width", "height"),
    [(True, 1366, 900), (True, 390, 844), (False, 390, 844), (False, 360, 740)],
)
def test_a_client_gets_a_client_id(
    browser: Any, ui_url: str, fake_api: Any, artifacts: Path, axe_script: Path,
    javascript: bool, width: int, height: int,
) -> None:  # fmt: skip
    name = f"{'js' if javascript else 'nojs'}-{width}"
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": width, "height": height}
    )
    if javascript:
        context.add_init_script(path=str(axe_script))
    page = context.new_page()
    watcher = Watcher(page, ui_url)
    before = len(fake_api.submissions())

    page.goto(ui_url + "/")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-1-company.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    # A server-side check first: a bad email comes back next to its field, input kept.
    fill_company_step(page, company="Acme <b>Widgets</b> Ltd")
    # Valid for the browser's type=email check, refused by the server's email validation.
    page.get_by_label("Email address").fill("ada@localhost")
    page.get_by_role("button", name="Continue to project details").click()
    error = page.locator("#company-contact-email-error")
    error.wait_for()
    assert "email address like" in error.inner_text()
    assert page.get_by_label("Company name").input_value() == "Acme <b>Widgets</b> Ltd"
    page.screenshot(path=str(artifacts / f"{name}-2-errors.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_role("button", name="Continue to project details").click()
    page.get_by_label("Scope").wait_for()
    assert page.locator("li[aria-current=step]").inner_text().split()[:2] == ["2", "Project"]
    _no_horizontal_scroll(page)
    fill_engagement_step(page)
    page.screenshot(path=str(artifacts / f"{name}-3-project.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/submitted/CL-"))
    client_id = page.locator("#client-id").inner_text().strip()
    assert CLIENT_ID.fullmatch(client_id)
    copy = page.get_by_role("button", name="Copy")
    assert copy.is_visible() == javascript
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-4-sent.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    assert len(fake_api.submissions()) == before + 1
    watcher.assert_clean()
    context.close()


def test_inline_validation_and_back_keep_answers(
    browser: Any, ui_url: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watcher = Watcher(page, ui_url)
    page.goto(ui_url + "/")
    page.get_by_label("Phone number").fill("12")
    page.get_by_label("Contact name").focus()
    page.locator("#company-contact-phone-error").wait_for()
    assert page.get_by_label("Phone number").get_attribute("aria-invalid") == "true"
    fill_company_step(page, company="Acme <b>Widgets</b> Ltd")
    page.get_by_label("Contact name").focus()
    # A locator wait, not wait_for_function: its polling evaluates a string, which the CSP
    # forbids whenever the condition is not already true at the first check.
    page.locator("#company-contact-phone-error").wait_for(state="detached")
    page.get_by_role("button", name="Continue to project details").click()
    page.get_by_label("Scope").fill("Kept across steps")
    page.get_by_role("button", name="Back").click()
    page.get_by_label("Company name").wait_for()
    assert page.get_by_label("Company name").input_value() == "Acme <b>Widgets</b> Ltd"
    page.get_by_role("button", name="Continue to project details").click()
    assert page.get_by_label("Scope").input_value() == "Kept across steps"
    watcher.assert_clean()
    context.close()


def test_a_field_check_in_flight_does_not_drop_another_fields_check(
    browser: Any, ui_url: str, artifacts: Path
) -> None:
    """On a slow line the email's check is still out when the phone changes: both are answered.

    The checks used to share one slot on the form, so the phone's was dropped and its old error
    stayed on screen after the number was corrected (seen on a slow CI machine).
    """
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watcher = Watcher(page, ui_url)
    held: list[Any] = []
    page.route(re.compile(r"/fields/company\.contact\.email$"), lambda route: held.append(route))
    page.goto(ui_url + "/")
    phone, error = page.get_by_label("Phone number"), page.locator("#company-contact-phone-error")
    phone.fill("12")
    page.get_by_label("Contact name").focus()
    error.wait_for()

    page.get_by_label("Email address").fill("ada@example.com")
    phone.fill("+44 20 7946 0958")
    page.get_by_label("Contact name").focus()
    error.wait_for(state="detached", timeout=10_000)
    assert len(held) == 1, "the email's check should have been waiting in the route"
    assert phone.get_attribute("aria-invalid") is None

    held[0].continue_()
    page.locator("#company-contact-email-field").wait_for()
    assert page.get_by_label("Email address").input_value() == "ada@example.com"
    assert page.locator("#company-contact-email-error").count() == 0
    page.screenshot(path=str(artifacts / "field-checks-in-flight.png"), full_page=True)
    watcher.assert_clean()
    context.close()


def test_a_late_field_check_does_not_put_back_an_older_value(
    browser: Any, ui_url: str, artifacts: Path
) -> None:
    """A field's check answers for the value it sent; one the client has typed past is dropped.

    The check swaps in the whole field, box included. When it came back after the client had
    typed a new value, it put the old one back, and the form went on without the new value's
    error (seen on a loaded CI machine: "ada@localhost" typed, "ada@example.com" sent).
    """
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watcher = Watcher(page, ui_url)
    check = re.compile(r"/fields/company\.contact\.email$")
    held: list[Any] = []
    page.route(check, lambda route: route.continue_() if held else held.append(route))
    page.goto(ui_url + "/")
    email = page.get_by_label("Email address")
    email.fill("ada@example.com")
    with page.expect_request(check):
        page.get_by_label("Phone number").focus()
    email.fill("ada@localhost")
    assert len(held) == 1, "the first value's check should have been waiting in the route"

    # Let the first check answer while the new value is in the box, and wait until htmx has
    # handled its answer (a swap follows beforeSwap in the same task).
    page.evaluate(
        """() => { window.lateCheck = new Promise(resolve => document.addEventListener(
            "htmx:beforeSwap", () => setTimeout(resolve), { once: true })); }"""
    )
    held[0].continue_()
    page.evaluate("() => window.lateCheck")
    assert email.input_value() == "ada@localhost"

    page.get_by_label("Phone number").focus()
    page.locator("#company-contact-email-error").wait_for(timeout=10_000)
    assert email.input_value() == "ada@localhost"
    page.screenshot(path=str(artifacts / "field-check-late.png"), full_page=True)
    watcher.assert_clean()
    context.close()


def test_status_page(browser: Any, ui_url: str, fake_api: Any, artifacts: Path) -> None:
    # A record of its own, so the test does not depend on which tests ran before it.
    client_id, record = new_client_id(), SubmissionCreate.model_validate(VALID_BODY)
    fake_api.records[client_id] = record
    for javascript in (True, False):
        context = browser.new_context(
            java_script_enabled=javascript, viewport={"width": 360, "height": 740}
        )
        page = context.new_page()
        watcher = Watcher(page, ui_url)
        page.goto(ui_url + "/status")
        page.get_by_label("Client ID").fill(client_id.lower())
        page.get_by_label("Email address").fill(record.company.contact.email)
        page.get_by_role("button", name="Check status").click()
        page.get_by_text("Received:").wait_for()
        _no_horizontal_scroll(page)
        page.screenshot(
            path=str(artifacts / f"status-{'js' if javascript else 'nojs'}.png"), full_page=True
        )
        watcher.assert_clean()
        context.close()
