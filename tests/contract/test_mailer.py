"""The Mailer contract: one multipart/alternative email per Message-ID."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from intake_core.adapters.file_mailer import FileMailer
from intake_core.ports import OutgoingEmail

AN_EMAIL = OutgoingEmail(
    message_id="<event-1@notify.intake>",
    sender="onboarding@consultancy.example",
    recipients=("sales@consultancy.example", "cloud@consultancy.example"),
    subject="New client CL-0000-0000-001Y: Contoso — Zürich",
    text="Plain summary",
    html="<p>HTML &lt;summary&gt;</p>",
)


async def test_file_mailer_writes_one_parseable_multipart_email(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "mail")
    await mailer.send(AN_EMAIL)
    await mailer.send(AN_EMAIL)
    [path] = list((tmp_path / "mail").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Message-ID"] == AN_EMAIL.message_id
    assert message["Subject"] == AN_EMAIL.subject
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert parts["text/plain"].strip() == "Plain summary"
    assert parts["text/html"].strip() == AN_EMAIL.html
    assert not list((tmp_path / "mail").glob("*.tmp"))


async def test_file_mailer_recreates_a_mailbox_cleared_while_it_runs(tmp_path: Path) -> None:
    mailbox = tmp_path / "mail"
    mailer = FileMailer(mailbox)
    await mailer.send(AN_EMAIL)
    for path in mailbox.iterdir():
        path.unlink()
    mailbox.rmdir()  # `rm -r .data/mail` during `make run`
    await mailer.send(AN_EMAIL)
    assert len(list(mailbox.glob("*.eml"))) == 1
