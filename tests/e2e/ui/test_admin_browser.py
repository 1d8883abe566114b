"""Chromium drives the staff dashboard against the REAL admin-api, under the real CSP.

Both apps run on real uvicorn servers on free ports and share a temporary data directory:
admin-api's SQLite store (seeded with ``SqliteSubmissionStore.save_new``) and the dev issuer's
key, so the UI's dev sign-in mints tokens admin-api accepts. With and without JavaScript, on a
desktop and a 390 px phone: sign in, search, open a record, change its status, download the
CSV, read the audit trail, erase; no request leaves the origin and the CSP reports nothing.
What staff search for (names, email addresses) is in no URL the browser requests or shows.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

import pytest
from intake_ui_testkit import ServerThread, free_port

from admin_api.app import create_app as create_admin_api
from admin_api.settings import AdminApiSettings
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission
from intake_ui.app import create_app
from intake_ui.settings import IntakeUiSettings

pytestmark = pytest.mark.e2e

SERVICES = ("kubernetes", "cloud-migration", "ci-cd", "site-reliability", "devsecops")


def _submission(company: str, contact: str, email: str, days_ago: int, service: str) -> Submission:
    return Submission.model_validate({
        "clientId": new_client_id(),
        "submittedAt": (datetime.now(UTC) - timedelta(days=days_ago, hours=1)).isoformat(),
        "company": {
            "name": company, "industry": "technology", "size": 40,
            "address": {"line1": "2 Dock Road", "city": "Bristol", "postalCode": "BS1 6AA",
                        "country": "GB"},
            "contact": {"name": contact, "email": email, "phone": "+442079460958"},
        },
        "engagement": {"serviceType": service, "scope": "Platform <b>work</b>\n\nand more.",
                       "timeline": "asap", "budgetRange": "100k-250k"},
        "consent": {"accepted": True, "privacyNoticeVersion": "2026-01"},
    })  # fmt: skip


def _run_aside(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run it on a thread of its own (Playwright's sync API owns this one's event loop), and
    raise its error here, in the test."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result(timeout=30)


def _seed(data_dir: Path, submissions: list[Submission]) -> None:
    """Write through the store's own API."""

    async def write() -> None:
        store = SqliteSubmissionStore(data_dir / "intake.db")
        await store.open()
        try:
            for s in submissions:
                # As intake-api writes it: a 64-character hash with no place to break a line.
                details = {"sourceIpHash": hashlib.sha256(s.client_id.encode()).hexdigest(),
                           "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}  # fmt: skip
                audit = AuditEntry(
                    "submission.created", "client", s.submitted_at, s.client_id, details
                )
                await store.save_new(s, submission_created(s), audit)
        finally:
            await store.close()

    _run_aside(write())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("admin-e2e")
    background = [
        _submission(f"Background {n} <i>Ltd</i>", f"Person {n}", f"p{n}@example.com", n * 4,
                    SERVICES[n % len(SERVICES)])
        for n in range(12)
    ]  # fmt: skip
    _seed(path, background)
    return path


@pytest.fixture(scope="module")
def admin_api_url(data_dir: Path) -> Iterator[str]:
    api_settings = AdminApiSettings(environment="test", INTAKE_DATA_DIR=data_dir)
    with ServerThread(create_admin_api(api_settings)) as api:
        yield api.url


def _ui_settings(data_dir: Path, api_url: str, **more: Any) -> IntakeUiSettings:
    return IntakeUiSettings(
        environment="test", INTAKE_DATA_DIR=data_dir, admin_api_url=api_url,
        intake_api_url=f"http://127.0.0.1:{free_port()}", **more,
    )  # fmt: skip


@pytest.fixture(scope="module")
def admin_ui_url(data_dir: Path, admin_api_url: str) -> Iterator[str]:
    with ServerThread(create_app(_ui_settings(data_dir, admin_api_url))) as ui:
        yield ui.url


@pytest.fixture(scope="module")
def two_per_page_ui_url(data_dir: Path, admin_api_url: str) -> Iterator[str]:
    """The same dashboard with pages of two, to page through a search of three."""
    settings = _ui_settings(data_dir, admin_api_url, admin_page_size=2)
    with ServerThread(create_app(settings)) as ui:
        yield ui.url


class Watcher:
    """Requests to other hosts, CSP violations, script errors, console errors."""

    def __init__(self, page: Any, origin: str) -> None:
        self.host = urlsplit(origin).netloc
        self.urls: list[str] = []
        self.foreign: list[str] = []
        self.csp: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _request(self, request: Any) -> None:
        self.urls.append(request.url)
        url = urlsplit(request.url)
        if url.scheme not in {"data", "blob"} and url.netloc != self.host:
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp.append(message.text)
        elif message.type == "error":
            self.errors.append(message.text)

    def take_refusal(self) -> None:
        """A form sent back with its errors answers 422, and the browser notes that on the
        console: take that one note, and leave anything else to ``assert_clean``."""
        refusals = [error for error in self.errors if "status of 422" in error]
        assert len(refusals) <= 1, self.errors
        self.errors = [error for error in self.errors if error not in refusals]

    def assert_in_no_url(self, *texts: str) -> None:
        """None of ``texts`` was in a URL the page requested (pages, htmx, downloads)."""
        for url in self.urls:
            for text in texts:
                assert text.casefold() not in unquote_plus(url).casefold(), url

    def assert_clean(self) -> None:
        assert self.foreign == []
        assert self.csp == []
        assert self.errors == []


def _axe(page: Any) -> list[str]:
    result = page.evaluate("async () => await axe.run(document)")
    return [f"{v['id']}: {v['help']}" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]  # fmt: skip


def _legible_axis_labels(page: Any) -> None:
    """The chart is scaled to the page: its day labels must neither shrink below 9 px nor
    run into each other."""
    boxes = [label.bounding_box() for label in page.locator("svg.chart text.middle").all()]
    assert min(box["height"] for box in boxes) >= 9, boxes
    assert all(a["x"] + a["width"] < b["x"] for a, b in itertools.pairwise(boxes))


def _no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"


@pytest.mark.parametrize(
    ("javascript", "width", "height"), [(True, 1366, 900), (True, 390, 844), (False, 390, 844)]
)
def test_staff_manage_a_submission_end_to_end(
    browser: Any, admin_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path,
    javascript: bool, width: int, height: int,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    name = f"admin-{'js' if javascript else 'nojs'}-{width}"
    company = f"Globex {name}"
    target = _submission(company, "Hank <Scorpio>", f"hank.{width}{javascript}@globex.example", 0,
                         "platform-engineering")  # fmt: skip
    _seed(data_dir, [target])
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": width, "height": height},
        accept_downloads=True,
    )  # fmt: skip
    if javascript:
        context.add_init_script(path=str(axe_script))
    page = context.new_page()
    watcher = Watcher(page, admin_ui_url)

    # Sign in (dev): name, email, roles (all checked by default).
    page.goto(admin_ui_url + "/admin")
    page.get_by_role("heading", name="Staff sign-in").wait_for()
    page.get_by_label("Your name").fill("Margaret Hamilton")
    page.get_by_label("Your email address").fill("margaret@example.com")
    page.screenshot(path=str(artifacts / f"{name}-sign-in.png"), full_page=True)
    page.get_by_role("button", name="Dev sign-in").click()
    page.get_by_text("Signed in as Margaret Hamilton").wait_for()
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-list.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    # Search: by POST, so the text stays out of the address bar.
    page.get_by_label("Search", exact=True).fill(company)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("a.client-id-link")).to_have_count(1)
    link = page.get_by_role("link", name=target.client_id)
    assert page.url == admin_ui_url + "/admin"

    # Open the record: hostile-looking text shows as text.
    link.click()
    page.get_by_role("heading", name=re.compile(company)).wait_for()
    assert page.get_by_text("Hank <Scorpio>").count() == 1
    assert page.get_by_text("Platform <b>work</b>").count() == 1
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-record.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    # Change the status: only the allowed next status is offered.
    assert page.locator("input[name=status]").count() == 1
    page.get_by_label("Contacted").check()
    page.get_by_role("button", name="Change status").click()
    page.get_by_text("The new status is saved.").wait_for()
    if javascript:
        # The message is drawn at the top of the record: focus and scroll go there (the
        # scroll may be animated: expect retries).
        message = page.locator("[data-focus]")
        expect(message).to_be_focused()
        expect(message).to_be_in_viewport(ratio=0.95)  # a subpixel may sit outside
    assert page.locator(".record-meta .badge").inner_text() == "Contacted"
    assert page.get_by_label("Qualified").count() == 1

    # Download the CSV of the search: a button that posts the search again.
    page.get_by_role("link", name="All submissions").click()
    page.get_by_label("Search", exact=True).fill(company)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("a.client-id-link")).to_have_count(1)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert page.url == admin_ui_url + "/admin"
    assert re.fullmatch(r"submissions-\d{8}T\d{6}Z\.csv", download.suggested_filename)
    csv_text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert company in csv_text and target.client_id in csv_text and "Background" not in csv_text

    # The audit trail shows what this member of staff did.
    page.get_by_role("link", name=target.client_id).click()
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("heading", name=re.compile("Audit trail")).wait_for()
    trail = page.locator("table.records").inner_text()
    assert "Changed the status" in trail and "margaret@example.com" in trail
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-audit.png"), full_page=True)

    # Erase, after saying why and typing the Client ID. "Another reason" needs the note: the
    # page says so next to it and keeps what was chosen and typed.
    page.get_by_role("link", name=f"Back to {target.client_id}").click()
    page.get_by_role("link", name="Erase personal data").click()
    page.get_by_role("group", name="Why are you erasing it?").wait_for()
    page.get_by_label("Another reason, which you explain in the note").check()
    page.get_by_label(re.compile("Type the Client ID")).fill(target.client_id.lower())
    page.get_by_role("button", name="Erase personal data").click()
    page.get_by_text("Say in the note why you are erasing it.").first.wait_for()
    assert page.get_by_label("Another reason, which you explain in the note").is_checked()
    watcher.take_refusal()
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-erase-refused.png"), full_page=True)
    if javascript:
        assert _axe(page) == []
    page.get_by_label("The person asked us to erase their data").check()
    page.get_by_label("Note (optional)").fill("Ticket 4711")
    page.screenshot(path=str(artifacts / f"{name}-erase.png"), full_page=True)
    page.get_by_role("button", name="Erase personal data").click()
    page.get_by_role("heading", name=re.compile("Erased submission")).wait_for()
    assert page.get_by_text(company).count() == 0
    # Who erased it and why, as admin-api's audit trail records it (the tombstone keeps none).
    page.get_by_text(
        re.compile("erased by margaret@example.com on .* \u2014 the person asked for erasure")
    ).wait_for()
    page.get_by_text("Ticket 4711").wait_for()
    page.screenshot(path=str(artifacts / f"{name}-erased.png"), full_page=True)

    # Searching its Client ID finds no record (admin-api leaves tombstones out), but says why.
    page.get_by_role("link", name="All submissions").click()
    page.get_by_label("Search", exact=True).fill(target.client_id)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Open the tombstone of {target.client_id}").wait_for()
    page.screenshot(path=str(artifacts / f"{name}-search-erased.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    # Figures: the last 30 days from admin-api, the erased record still counted.
    page.get_by_role("link", name="Figures").click()
    page.locator("svg.chart rect").first.wait_for()
    assert page.locator("svg.chart text.middle").count() == 5  # every seventh day labelled
    assert "in 30 days" in page.locator("#daily-caption").inner_text()
    services = page.locator("ul.bar-list").inner_text()
    assert "Platform engineering" in services
    _legible_axis_labels(page)
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"{name}-figures.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    # Sign out.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You have signed out of the staff area.").wait_for()

    watcher.assert_in_no_url("Globex", target.company.contact.email)
    watcher.assert_clean()
    context.close()


def _sign_in(page: Any, url: str) -> None:
    page.goto(url + "/admin")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Your email address").fill("grace@example.com")
    page.get_by_role("button", name="Dev sign-in").click()
    page.get_by_text("Signed in as Grace Hopper").wait_for()


def _search(page: Any, text: str) -> None:
    """Search, and wait until the answer has replaced the list (by htmx, or a new page without
    JavaScript). The list shown before may hold the record already (newest first): waiting for
    its link alone could read the old list while the swap takes it away (seen on a loaded CI
    machine)."""
    page.locator("#dashboard").evaluate("list => list.setAttribute('data-before-search', '')")
    page.get_by_label("Search", exact=True).fill(text)
    page.get_by_role("button", name="Search", exact=True).click()
    page.locator("#dashboard:not([data-before-search])").wait_for()


@pytest.mark.parametrize(("javascript", "width", "height"), [(True, 1366, 768), (False, 390, 844)])
def test_a_search_for_an_email_stays_out_of_every_url(
    browser: Any, two_per_page_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path,
    javascript: bool, width: int, height: int,
) -> None:  # fmt: skip
    """Search for a contact's email, page through a search, download its CSV: the text is in
    no URL the browser requests or shows, and the results and the CSV are the search's."""
    from playwright.sync_api import expect

    tag = "js" if javascript else "nojs"
    people = [
        _submission(f"Analytical Engines {tag} {n}", f"Ada Byron {n}",
                    f"ada.{tag}.{n}@analytical.example", 0, "kubernetes")
        for n in range(3)
    ]  # fmt: skip
    _seed(data_dir, people)
    ids = {person.client_id for person in people}
    email, company = people[1].company.contact.email, f"Analytical Engines {tag}"
    url = two_per_page_ui_url
    context = browser.new_context(
        java_script_enabled=javascript, viewport={"width": width, "height": height},
        accept_downloads=True,
    )  # fmt: skip
    if javascript:
        context.add_init_script(path=str(axe_script))
    page = context.new_page()
    watcher = Watcher(page, url)
    _sign_in(page, url)
    rows = page.locator("a.client-id-link")

    # One contact's email address: one result, and the address bar says nothing of it.
    _search(page, email)
    expect(rows).to_have_count(1)
    assert rows.inner_text() == people[1].client_id
    assert page.url == url + "/admin"
    assert page.get_by_label("Search", exact=True).input_value() == email
    page.screenshot(path=str(artifacts / f"admin-search-email-{tag}.png"), full_page=True)
    if javascript:
        assert _axe(page) == []

    # Three matches in pages of two: "Next page" and "Back to first page" post the text again.
    _search(page, company)
    expect(rows).to_have_count(2)
    first = set(rows.all_inner_texts())
    page.get_by_role("button", name="Next page").click()
    expect(rows).to_have_count(1)
    assert first | set(rows.all_inner_texts()) == ids
    assert page.url == url + "/admin"
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"admin-search-page-2-{tag}.png"), full_page=True)
    if javascript:
        assert _axe(page) == []
    page.get_by_role("button", name="Back to first page").click()
    expect(page.get_by_role("button", name="Next page")).to_have_count(1)
    assert set(rows.all_inner_texts()) == first

    # The CSV of the search: every match, nothing else, and still no text in the address.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert {line.split(",")[0] for line in csv_text.splitlines()[1:]} == ids
    assert page.url == url + "/admin"

    if javascript:
        # Open a match, come back: the list's address loads again, with nothing to resend.
        rows.first.click()
        page.get_by_role("heading", name=re.compile(company)).wait_for()
        page.go_back()
        page.get_by_role("heading", name="Submissions").wait_for()
        assert page.url == url + "/admin"
        # A reload shows the list without the text (which the address does not hold).
        _search(page, email)
        expect(rows).to_have_count(1)
        page.reload()
        expect(rows).to_have_count(2)
        assert page.get_by_label("Search", exact=True).input_value() == ""

    watcher.assert_in_no_url(email, "analytical", "ada.")
    watcher.assert_clean()

    # An old bookmark with the text in it: the list without it, and a notice saying why.
    old_text = f"charles.{tag}@babbage.example"
    page.goto(url + "/admin?" + urlencode({"q": old_text, "status": "received"}))
    page.get_by_text("Search text is not taken from links").wait_for()
    assert page.url == url + "/admin?status=received"
    assert old_text not in page.content()
    assert page.get_by_label("Search", exact=True).input_value() == ""
    page.screenshot(path=str(artifacts / f"admin-old-search-link-{tag}.png"), full_page=True)
    if javascript:
        assert _axe(page) == []
    context.close()


def _signed_in_page(
    browser: Any, url: str, axe_script: Path, width: int, height: int, *, roles: bool = True
) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    page.goto(url + "/admin")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_label("Your email address").fill("grace@example.com")
    if not roles:
        for box in page.locator("input[name=roles]").all():
            box.uncheck()
    page.get_by_role("button", name="Dev sign-in").click()
    page.get_by_text("Signed in as Grace Hopper").wait_for()
    return page


def _in_view_horizontally(page: Any, locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0
    assert box["x"] + box["width"] <= page.viewport_size["width"], box


def test_a_long_unbroken_company_name_keeps_every_column_in_reach(
    browser: Any, admin_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path
) -> None:
    """A 200-character name with no spaces (the form allows it) once made the table 3000 px
    wide, and html{overflow-x:hidden} left the Contact … Submitted columns unreachable."""
    company = "Initech" + "X" * 193
    email = "a" * 60 + "@" + "b" * 60 + ".example"
    target = _submission(company, "Bill Lumbergh", email, 0, "kubernetes")
    _seed(data_dir, [target])
    page = _signed_in_page(browser, admin_ui_url, axe_script, 1366, 768)
    _search(page, "InitechXXXX")
    page.get_by_role("link", name=target.client_id).wait_for()
    _no_sideways_scroll(page)
    for heading in ("Contact", "Service", "Status", "Submitted"):
        _in_view_horizontally(page, page.get_by_role("columnheader", name=heading))
    # The whole name is still there to read (wrapped), and is the cell's accessible text.
    assert page.get_by_role("cell", name=company).count() == 1
    page.screenshot(path=str(artifacts / "admin-long-name-1366.png"), full_page=True)
    assert _axe(page) == []
    page.context.close()


def test_an_ordinary_email_stays_on_one_line_at_desktop_width(
    browser: Any, admin_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path
) -> None:
    """Wrapping anywhere must not squeeze the column below what an ordinary address needs
    (a newcomer's screenshot showed "grace@example.c" / "om" with room to spare)."""
    email = "hank.scorpio@globex.example"
    target = _submission("Globex Corporation", "Hank Scorpio", email, 0, "kubernetes")
    _seed(data_dir, [target])
    page = _signed_in_page(browser, admin_ui_url, axe_script, 1366, 768)
    _search(page, "Globex")
    page.get_by_role("link", name=target.client_id).wait_for()
    lines = page.evaluate(
        """(email) => {
            const cells = document.querySelectorAll("table.records tbody td");
            for (const cell of cells) {
                const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    if (node.textContent.trim() === email) {
                        const range = document.createRange();
                        range.selectNodeContents(node);
                        return new Set([...range.getClientRects()].map((r) => r.top)).size;
                    }
                }
            }
            return 0;
        }""",
        email,
    )
    page.screenshot(path=str(artifacts / "admin-ordinary-email-1366.png"), full_page=True)
    assert lines == 1, f"the address is broken over {lines} lines"
    page.context.close()


def test_dev_mailbox_fits_a_phone_and_its_parts_can_be_scrolled_by_keyboard(
    browser: Any, admin_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path
) -> None:
    from intake_core.adapters.file_mailer import FileMailer
    from intake_core.ports.mail import OutgoingEmail

    long_name = "Umbrella" + "Z" * 150
    email = OutgoingEmail(
        message_id="<long-lines@intake.local>",
        sender="noreply@intake.local",
        recipients=("sales-team-with-a-rather-long-address@very-long-domain.example",),
        subject=f"New client request: {long_name}",
        text=f"Company: {long_name}\nScope: " + "word " * 40,
        html=f"<p>Company: {long_name}</p>",
    )
    _run_aside(FileMailer(data_dir / "mail").send(email))
    page = _signed_in_page(browser, admin_ui_url, axe_script, 390, 844)
    page.get_by_role("link", name="Mailbox").click()
    page.get_by_role("heading", name="Mailbox").wait_for()
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "admin-mailbox-390.png"), full_page=True)
    assert _axe(page) == []

    page.get_by_role("link", name=re.compile("Umbrella")).click()
    page.get_by_role("heading", name="Text part").wait_for()
    _no_sideways_scroll(page)
    # Each part is a named region a keyboard user can focus and scroll (axe:
    # scrollable-region-focusable).
    text_part = page.get_by_role("region", name="Text part")
    assert text_part.get_attribute("tabindex") == "0"
    assert page.get_by_role("region", name=re.compile("HTML part")).count() == 1
    page.screenshot(path=str(artifacts / "admin-mail-message-390.png"), full_page=True)
    assert _axe(page) == []
    page.context.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_the_no_access_page_says_which_role_and_offers_a_way_out(
    browser: Any, admin_ui_url: str, artifacts: Path, axe_script: Path, width: int, height: int
) -> None:
    page = _signed_in_page(browser, admin_ui_url, axe_script, width, height, roles=False)
    page.get_by_role("heading", name="You do not have access to this").wait_for()
    assert page.locator("main h1, main h2").count() == 1
    assert page.get_by_text(re.compile("needs the Submissions.Read role")).count() == 1
    assert page.locator("main").get_by_role("link").count() == 0
    page.get_by_role("button", name=re.compile("another account")).wait_for()
    _no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / f"admin-no-access-{width}.png"), full_page=True)
    assert _axe(page) == []
    page.context.close()


def test_record_and_audit_headings_read_as_separate_words(
    browser: Any, admin_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path
) -> None:
    """The Client ID sits on its own line under the H1; a screen reader once read the two as
    one word ("OscorpCL-0291-…")."""
    from playwright.sync_api import expect

    target = _submission("Oscorp", "Norman Osborn", "norman@oscorp.example", 0, "devsecops")
    _seed(data_dir, [target])
    for width, height in ((1366, 768), (390, 844)):
        page = _signed_in_page(browser, admin_ui_url, axe_script, width, height)
        page.goto(f"{admin_ui_url}/admin/submissions/{target.client_id}")
        heading = page.get_by_role("heading", level=1)
        # (The markup's own whitespace may put a space before the comma: harmless when heard.)
        expect(heading).to_have_accessible_name(
            re.compile(rf"^Oscorp ?, Client ID {target.client_id}$")
        )
        page.screenshot(path=str(artifacts / f"admin-record-heading-{width}.png"))
        page.get_by_role("link", name="Audit trail").click()
        expect(page.get_by_role("heading", level=1)).to_have_accessible_name(
            re.compile(rf"^Audit trail +of {target.client_id}$")
        )
        details = page.locator("td.audit-details").first.inner_text()
        assert "Browser:" in details and "sourceIpHash" not in details
        page.screenshot(path=str(artifacts / f"admin-audit-details-{width}.png"), full_page=True)
        assert _axe(page) == []
        page.context.close()


def test_the_phone_header_keeps_sign_out_on_one_line(
    browser: Any, admin_ui_url: str, artifacts: Path, axe_script: Path
) -> None:
    page = _signed_in_page(browser, admin_ui_url, axe_script, 390, 844)
    page.screenshot(path=str(artifacts / "admin-header-390.png"))
    button = page.get_by_role("button", name="Sign out")
    lines = button.evaluate(
        "b => Math.round(b.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(b).lineHeight) - 0.4)"
    )
    assert lines == 1, "Sign out wraps"
    _in_view_horizontally(page, button)
    _no_sideways_scroll(page)
    page.context.close()


def test_an_export_link_on_another_site_starts_no_download(
    browser: Any, admin_ui_url: str, data_dir: Path, artifacts: Path, axe_script: Path
) -> None:
    """Chromium says who started a navigation (Sec-Fetch-Site): a link to the CSV on another
    site (here: the same server reached as localhost, another site than 127.0.0.1) is refused;
    the page's own link downloads it."""
    for width, height in ((1366, 768), (390, 844)):
        page = _signed_in_page(browser, admin_ui_url, axe_script, width, height)
        export = f"{admin_ui_url}/admin/submissions.csv?status=received"
        elsewhere = admin_ui_url.replace("127.0.0.1", "localhost") + "/privacy"
        page.goto(elsewhere)
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.id = 'planted';"
            " a.textContent = 'Free prize'; document.body.prepend(a); }",
            export,
        )
        page.click("#planted")
        page.get_by_role("heading", name="The download was not started").wait_for()
        assert page.url == export
        page.screenshot(path=str(artifacts / f"admin-export-cross-site-{width}.png"))
        assert _axe(page) == []
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download it").click()
        assert download_info.value.suggested_filename.endswith(".csv")
        page.context.close()


def test_a_csv_form_on_another_site_starts_no_download(
    browser: Any, admin_ui_url: str, axe_script: Path
) -> None:
    """The CSV of a search is a form: one planted on another site (localhost here, another site
    than 127.0.0.1) has no CSRF token, and the browser sends it without the staff cookies."""
    page = _signed_in_page(browser, admin_ui_url, axe_script, 1366, 768)
    downloads: list[Any] = []
    page.on("download", lambda download: downloads.append(download))
    # Another site's page (served by Playwright: none of our pages would, their CSP says
    # form-action 'self'), with a form that posts a search's CSV to us.
    elsewhere = admin_ui_url.replace("127.0.0.1", "localhost") + "/prize"
    planted = (
        f'<!doctype html><title>Prize</title><form method="post" '
        f'action="{admin_ui_url}/admin/submissions.csv"><input type="hidden" name="q" '
        'value="ada@example.com"><button>Claim</button></form>'
    )
    page.route(elsewhere, lambda route: route.fulfill(body=planted, content_type="text/html"))
    page.goto(elsewhere)

    def is_the_planted_post(response: Any) -> bool:
        return response.request.method == "POST" and response.url.endswith("/submissions.csv")

    with page.expect_response(is_the_planted_post) as answered, page.expect_navigation():
        page.get_by_role("button", name="Claim").click()
    page.wait_for_load_state()
    # Our answer to the planted form: no CSV, nothing to download.
    answer = answered.value
    assert answer.status in (303, 403), answer.status
    assert "text/csv" not in answer.headers.get("content-type", "")
    assert "content-disposition" not in answer.headers
    assert downloads == []
    # SameSite=Lax kept the staff cookies off the cross-site POST, so it asked for a sign-in,
    # which the top-level GET after it found: the list, with nothing searched or exported.
    assert page.url == admin_ui_url + "/admin"
    page.get_by_role("heading", name="Submissions").wait_for()
    page.context.close()
