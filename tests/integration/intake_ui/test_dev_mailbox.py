"""/admin/mailbox: the dev mailer's .eml files, listed and shown safely, in dev only.

Real files written by the real FileMailer into the UI's data dir, hostile content included.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from intake_ui_admin_testkit import dev_sign_in
from starlette.responses import Response
from starlette.testclient import TestClient

from intake_core.adapters.file_mailer import FileMailer
from intake_core.ports.mail import OutgoingEmail
from intake_ui.app import UiDeps, create_app
from intake_ui.mail_folder import MAX_MESSAGE_BYTES
from intake_ui.security import CONTENT_SECURITY_POLICY
from intake_ui.settings import IntakeUiSettings
from intake_ui.staff_session import StaffCookies, StaffSession

HOSTILE_HTML = (
    '<p>New client</p><script>alert("owned")</script><img src=x onerror="alert(1)">'
    '<iframe src="https://evil.example"></iframe><a href="javascript:alert(2)">x</a>'
)


def _send(folder: Path, number: int, *, subject: str, html: str = "<p>Hi</p>") -> Path:
    mailer = FileMailer(folder)
    email = OutgoingEmail(
        message_id=f"<message-{number}@intake.local>",
        sender="noreply@intake.local",
        recipients=("sales@example.com",),
        subject=subject,
        text=f"Plain text of message {number}\nClient ID CL-TEST",
        html=html,
    )
    asyncio.run(mailer.send(email))
    path = mailer.path_for(email)
    os.utime(path, (time.time() - 1000 + number, time.time() - 1000 + number))
    return path


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _assert_safe(response: Any) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    document = soup(response)
    assert document.find_all("script") == [] or all(s.get("src") for s in document("script"))
    assert document.find_all("iframe") == [] and document.find_all("img") == []
    for tag in document.find_all(True):
        assert not any(name.startswith("on") for name in tag.attrs), tag
        assert not str(tag.get("href", "")).startswith("javascript:"), tag


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"


def test_the_mailbox_lists_newest_first_with_subject_recipient_and_date(
    admin_client: TestClient, mail_dir: Path
) -> None:
    first = _send(mail_dir, 1, subject="New client CL-AAAA")
    second = _send(mail_dir, 2, subject="New client CL-BBBB")
    (mail_dir / "notes.txt").write_text("not an email")
    (mail_dir / "half.eml.tmp").write_text("being written")
    dev_sign_in(admin_client)
    page = admin_client.get("/admin/mailbox")
    assert page.status_code == 200
    _assert_safe(page)
    rows = soup(page).select("table tbody tr")
    assert [row.select("td")[0].get_text(strip=True) for row in rows] == [
        "New client CL-BBBB",
        "New client CL-AAAA",
    ]
    assert rows[0].select("td")[1].get_text(strip=True) == "sales@example.com"
    assert rows[0].select_one("time")["datetime"]
    links = [row.select_one("a")["href"] for row in rows]
    assert links == [f"/admin/mailbox/{second.stem}", f"/admin/mailbox/{first.stem}"]


def test_an_empty_or_missing_folder_says_so(admin_client: TestClient) -> None:
    dev_sign_in(admin_client)
    page = admin_client.get("/admin/mailbox")
    assert page.status_code == 200 and "No emails yet" in page.text


def test_one_message_shows_its_text_and_its_html_as_escaped_source(
    admin_client: TestClient, mail_dir: Path
) -> None:
    path = _send(mail_dir, 1, subject='<script>alert("subject")</script>', html=HOSTILE_HTML)
    dev_sign_in(admin_client)
    page = admin_client.get(f"/admin/mailbox/{path.stem}")
    assert page.status_code == 200
    _assert_safe(page)
    document = soup(page)
    assert document.select_one("h1").get_text(strip=True) == '<script>alert("subject")</script>'
    blocks = [pre.get_text() for pre in document.select("pre")]
    assert blocks[0].strip() == "Plain text of message 1\nClient ID CL-TEST"
    assert blocks[1].strip() == HOSTILE_HTML  # the source, as text
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in page.text or (
        "&lt;script&gt;" in page.text
    )
    assert "noreply@intake.local" in document.get_text()


def test_the_nav_links_the_mailbox_in_dev(admin_client: TestClient) -> None:
    dev_sign_in(admin_client)
    nav = soup(admin_client.get("/admin")).select("header nav a")
    assert "/admin/mailbox" in [a["href"] for a in nav]


def test_the_mailbox_needs_a_staff_sign_in(admin_client: TestClient, mail_dir: Path) -> None:
    path = _send(mail_dir, 1, subject="Secret client")
    for url in ("/admin/mailbox", f"/admin/mailbox/{path.stem}"):
        page = admin_client.get(url)
        assert page.status_code in {200, 303}
        assert "Secret client" not in page.text
        assert "Plain text of message" not in page.text


@pytest.mark.parametrize(
    "message_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "..%5C..%5Cpasswd",
        ".hidden",
        "a" * 200,
        "nope",
        "passwd",
        "link",
        "big",
        "x%00y",
        "CON",
        "%F0%9F%92%A5",
    ],
)
def test_only_a_real_message_file_in_the_folder_can_be_shown(
    admin_client: TestClient, mail_dir: Path, tmp_path: Path, message_id: str
) -> None:
    _send(mail_dir, 1, subject="Fine")
    (tmp_path / "passwd.eml").write_text("Subject: outside the folder\n\nsecret")
    (mail_dir / "link.eml").symlink_to(tmp_path / "passwd.eml")
    dev_sign_in(admin_client)
    page = admin_client.get(f"/admin/mailbox/{message_id}")
    assert page.status_code == 404
    assert "outside the folder" not in page.text and "secret" not in page.text
    listing = admin_client.get("/admin/mailbox")
    assert "outside the folder" not in listing.text


def test_oversized_and_malformed_files_never_fail_the_pages(
    admin_client: TestClient, mail_dir: Path
) -> None:
    mail_dir.mkdir(parents=True)
    (mail_dir / "big.eml").write_bytes(b"Subject: huge\n\n" + b"x" * (MAX_MESSAGE_BYTES + 1))
    (mail_dir / "junk.eml").write_bytes(
        b"Subject: =?bogus-charset?q?=FF=FE?=\nDate: not a date\nTo: <<<@>>>\n"
        b"Content-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: base64\n\n"
        b"!!!not base64\xff\xfe"
    )
    (mail_dir / "empty.eml").write_bytes(b"")
    (mail_dir / "binary.eml").write_bytes(bytes(range(256)) * 10)
    dev_sign_in(admin_client)
    listing = admin_client.get("/admin/mailbox")
    assert listing.status_code == 200
    assert "(too large to show)" in listing.text
    for stem in ("big", "junk", "empty", "binary"):
        page = admin_client.get(f"/admin/mailbox/{stem}")
        assert page.status_code == 200, stem
        _assert_safe(page)


@pytest.fixture
def prod_client(tmp_path: Path) -> Any:
    settings = IntakeUiSettings(
        environment="prod", UI_SESSION_SECRET="s" * 40, INTAKE_DATA_DIR=tmp_path
    )
    app = create_app(settings, deps=UiDeps())
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        staff = StaffSession(
            "Staff", frozenset({"Submissions.Read"}), "token", int(time.time()) + 600
        )
        carrier = Response()
        StaffCookies(settings.secret_key, secure=True).write(carrier, staff)
        for header in carrier.headers.getlist("set-cookie"):
            name, _, rest = header.partition("=")
            client.cookies.set(name, rest.split(";")[0], path="/admin")
        yield client


def test_outside_dev_there_is_no_mailbox_even_for_signed_in_staff(
    prod_client: TestClient, tmp_path: Path
) -> None:
    path = _send(tmp_path / "mail", 1, subject="Prod secret")
    for url in ("/admin/mailbox", f"/admin/mailbox/{path.stem}"):
        page = prod_client.get(url)
        assert page.status_code == 404, url
        assert "Prod secret" not in page.text
    page = prod_client.get("/admin/figures")
    assert "/admin/mailbox" not in page.text


@pytest.mark.parametrize("message_id", ["../passwd", "..", "/etc/passwd", "passwd/../passwd", ""])
def test_the_folder_reader_refuses_paths_outright(tmp_path: Path, message_id: str) -> None:
    from intake_ui.mail_folder import MailFolder

    (tmp_path / "passwd.eml").write_text("Subject: outside\n\nsecret")
    folder = tmp_path / "mail"
    folder.mkdir()
    assert MailFolder(folder).read(message_id) is None


def test_the_mailbox_needs_the_read_role_like_the_dashboard(
    admin_client: TestClient, mail_dir: Path
) -> None:
    path = _send(mail_dir, 1, subject="Secret client")
    dev_sign_in(admin_client, roles=("Submissions.Export", "Audit.Read"))
    for url in ("/admin/mailbox", f"/admin/mailbox/{path.stem}"):
        page = admin_client.get(url)
        assert page.status_code == 403, url
        assert "Secret client" not in page.text and "Plain text of message" not in page.text
        assert "Submissions.Read" in soup(page).select_one("main").get_text()
    nav = soup(admin_client.get("/admin/figures")).select("header nav a")
    assert "/admin/mailbox" not in [a["href"] for a in nav]
