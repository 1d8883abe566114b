"""How the form behaves for a person in Chromium: focus, keys, history, lost cookies, layout."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from intake_ui_testkit import Scripted

from support.form_pages import fill_company_step, fill_engagement_step

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def _wait_until(page: Any, expression: str, timeout: float = 5.0) -> None:
    """Polls from Python: wait_for_function evaluates a string, which the page's CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {expression}")
        page.wait_for_timeout(50)


def _in_view(page: Any, selector: str) -> bool:
    top = page.evaluate("s => document.querySelector(s).getBoundingClientRect().top", selector)
    height = page.evaluate("window.innerHeight")
    return bool(-1 < top < height)  # sub-pixel rounding


@pytest.fixture
def phone(browser: Any, ui_url: str) -> Any:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(ui_url + "/")
    yield page
    context.close()


def test_a_new_step_opens_at_its_heading_with_focus_there(phone: Any, artifacts: Path) -> None:
    fill_company_step(phone)
    phone.get_by_role("button", name="Continue to project details").click()
    phone.get_by_label("Scope").wait_for()
    _wait_until(phone, "document.activeElement.id === 'wizard-title'")
    assert _in_view(phone, "#wizard-title")
    assert phone.evaluate("document.activeElement.textContent") == "Tell us about your project"
    phone.screenshot(path=str(artifacts / "ux-phone-step2-viewport.png"))


def test_a_failed_send_shows_the_alert_in_view_with_focus(
    phone: Any, fake_api: Any, artifacts: Path
) -> None:
    fill_company_step(phone)
    phone.get_by_role("button", name="Continue to project details").click()
    fill_engagement_step(phone)
    fake_api.script(*[Scripted(503)] * 3)
    phone.get_by_role("button", name="Send request").click()
    phone.locator("[role=alert][data-focus]").wait_for()
    _wait_until(phone, "document.activeElement.matches('[data-focus]')")
    assert _in_view(phone, "[role=alert][data-focus]")
    assert "not responding" in phone.evaluate("document.activeElement.textContent")
    phone.screenshot(path=str(artifacts / "ux-phone-send-failed-viewport.png"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_enter_on_step_two_sends_and_send_comes_first(
    browser: Any, ui_url: str, fake_api: Any, artifacts: Path, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(ui_url + "/")
    fill_company_step(page)
    page.get_by_role("button", name="Continue to project details").click()
    fill_engagement_step(page)
    send = page.get_by_role("button", name="Send request").bounding_box()
    back = page.get_by_role("button", name="Back").bounding_box()
    # Visual order is the Tab order: Send above Back (phone) or to its left (desktop).
    assert (send["y"], send["x"]) < (back["y"], back["x"])
    page.screenshot(path=str(artifacts / f"ux-{viewport['width']}-step2-actions.png"))
    before = len(fake_api.submissions())
    page.get_by_label(re.compile("I have read and accept")).press("Enter")
    page.wait_for_url(re.compile(r"/submitted/CL-"))
    assert len(fake_api.submissions()) == before + 1
    context.close()


def _key(page: Any) -> str:
    return str(page.locator("input[name=idempotencyKey]").input_value())


def test_browser_back_forward_and_reload_follow_the_steps_and_keep_the_answers(
    browser: Any, ui_url: str, fake_api: Any, artifacts: Path
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(ui_url + "/privacy")
    page.goto(ui_url + "/")
    fill_company_step(page)
    page.get_by_role("button", name="Continue to project details").click()
    page.wait_for_url(ui_url + "/project")
    page.get_by_label("Scope").fill("Typed on step 2")
    key = _key(page)

    page.go_back()
    page.wait_for_url(ui_url + "/")
    page.get_by_label("Company name").wait_for()
    _wait_until(page, "document.querySelector('#company-name').value === 'Acme Widgets Ltd'")
    page.screenshot(path=str(artifacts / "ux-phone-browser-back.png"))

    page.go_forward()
    page.wait_for_url(ui_url + "/project")
    page.get_by_label("Scope").wait_for()
    assert page.get_by_label("Scope").input_value() == "Typed on step 2"

    page.reload()
    page.get_by_label("Scope").wait_for()
    assert page.url == ui_url + "/project"
    assert page.get_by_label("Scope").input_value() == "Typed on step 2"
    assert _key(page) == key, "a resend after reload reuses the idempotency key"
    assert "Acme" not in page.url and "ada" not in page.url

    fill_engagement_step(page, scope="Typed on step 2")
    before = len(fake_api.submissions())
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/submitted/CL-"))
    [arrival] = fake_api.submissions()[before:]
    assert arrival.idempotency_key == key
    assert arrival.body["company"]["name"] == "Acme Widgets Ltd"
    # Once sent, the tab forgets the answers: a new form starts empty.
    page.goto(ui_url + "/")
    assert page.get_by_label("Company name").input_value() == ""
    context.close()


def test_step_two_address_without_answers_starts_at_step_one(browser: Any, ui_url: str) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(ui_url + "/project")
    page.get_by_label("Company name").wait_for()
    _wait_until(page, "location.pathname === '/'")
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_lost_session_cookie_keeps_the_answers(
    browser: Any, ui_url: str, fake_api: Any, artifacts: Path, javascript: bool
) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(ui_url + "/")
    fill_company_step(page)
    page.get_by_role("button", name="Continue to project details").click()
    fill_engagement_step(page)
    context.clear_cookies()
    page.get_by_role("button", name="Send request").click()
    page.get_by_text("Your answers are kept").wait_for()
    assert page.get_by_label("Scope").input_value() == "Move our build pipeline to AKS."
    page.screenshot(path=str(artifacts / f"ux-phone-{'js' if javascript else 'nojs'}-csrf.png"))
    before = len(fake_api.submissions())
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/submitted/CL-"))
    assert len(fake_api.submissions()) == before + 1
    context.close()


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_focus_ring_of_links_and_buttons_has_3_to_1_contrast(
    browser: Any, ui_url: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(ui_url + "/")
    white = (255.0, 255.0, 255.0)
    for selector in ("a.brand", "footer a", "#wizard button[type=submit]"):
        page.locator(selector).first.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"
        )
        rgb = tuple(float(v) for v in re.findall(r"[\d.]+", style[2])[:3])
        assert style[0] == "solid" and style[1] >= 2, (selector, style)
        assert _contrast(rgb, white) >= 3, (selector, style)
    page.screenshot(path=str(artifacts / "ux-desktop-focus-button.png"))
    context.close()


def test_between_576_and_767_px_the_content_keeps_off_the_edges(
    browser: Any, ui_url: str, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 683, "height": 384}, device_scale_factor=2)
    page = context.new_page()
    page.goto(ui_url + "/")
    for selector in ("#wizard-title", "#company-name", ".steps"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 12 and box["x"] + box["width"] <= 683 - 12, selector
    page.screenshot(path=str(artifacts / "ux-683-step1.png"))
    context.close()


def test_a_slow_send_says_sending_and_leaves_back_alone(
    phone: Any, fake_api: Any, artifacts: Path
) -> None:
    fill_company_step(phone)
    phone.get_by_role("button", name="Continue to project details").click()
    fill_engagement_step(phone)
    fake_api.script(Scripted(0, delay_seconds=2))
    phone.get_by_role("button", name="Send request").click()
    status = phone.locator(".request-status[role=status]")
    _wait_until(phone, "document.querySelector('.request-status').textContent !== ''")
    assert status.inner_text() == "Sending your request…"
    assert phone.get_by_role("button", name="Back").get_attribute("aria-busy") is None
    phone.screenshot(path=str(artifacts / "ux-phone-sending.png"))
    phone.wait_for_url(re.compile(r"/submitted/CL-"))
