"""A newcomer's journey through the real platform in Chromium: the form, the Client ID, the
email to the sales team, the status page — every process real, nothing faked."""

from __future__ import annotations

import email
import os
import re
import time
from email import policy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from support.form_pages import fill_company_step, fill_engagement_step

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "journey"
CLIENT_ID = re.compile(r"CL-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def page_factory() -> Any:
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


AXE = ROOT / "services" / "intake-ui" / "node_modules" / "axe-core" / "axe.min.js"


def serious_accessibility_problems(page: Any) -> list[str]:
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']}: {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    ("javascript", "width"),
    [(True, 1366), (True, 390), (False, 390)],
    ids=["desktop-js", "phone-js", "phone-no-js"],
)
def test_a_client_onboards_and_the_sales_team_is_told(
    platform, page_factory, javascript, width
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = page_factory.new_context(
        java_script_enabled=javascript, viewport={"width": width, "height": 900}
    )
    if javascript:
        # Injected before any page script, so the strict CSP stays on (TOOLING.md).
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    foreign: list[str] = []
    page.on(
        "request", lambda r: foreign.append(r.url) if not r.url.startswith(platform.ui) else None
    )

    page.goto(platform.ui + "/")
    shot = f"{width}px-{'js' if javascript else 'no-js'}"
    page.screenshot(path=ARTIFACTS / f"1-company-{shot}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the form scrolls sideways by {overflow}px"
    if javascript:
        assert serious_accessibility_problems(page) == []
    company = f"Journey {shot} Ltd"
    fill_company_step(page, company=company, contact="Grace Hopper", email="grace@example.com")
    page.get_by_role("button", name=re.compile("continue|next", re.I)).click()

    fill_engagement_step(page)
    page.screenshot(path=ARTIFACTS / f"2-engagement-{shot}.png", full_page=True)
    page.get_by_role("button", name=re.compile("submit|send", re.I)).click()

    page.wait_for_url(re.compile(r"/submitted/"))
    client_id = CLIENT_ID.search(page.inner_text("body"))
    assert client_id, page.inner_text("body")
    page.screenshot(path=ARTIFACTS / f"3-submitted-{shot}.png", full_page=True)
    if javascript:
        assert serious_accessibility_problems(page) == []

    page.goto(platform.ui + "/status")
    page.get_by_label(re.compile("Client ID")).fill(client_id.group(0).lower())
    page.get_by_label(re.compile("Email")).fill("grace@example.com")
    page.get_by_role("button", name=re.compile("status", re.I)).click()
    expect(page.locator("main")).to_contain_text(re.compile("received", re.I))
    page.screenshot(path=ARTIFACTS / f"4-status-{shot}.png", full_page=True)
    assert foreign == []
    context.close()

    mail_dir = platform.local_data() / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        subjects = [
            str(email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"])
            for p in mail_dir.glob("*.eml")
        ]
        if any(client_id.group(0) in subject for subject in subjects):
            break
        time.sleep(0.2)
    assert any(client_id.group(0) in s and company in s for s in subjects), subjects
