"""The Mailer contract: one multipart/alternative email per Message-ID."""

from __future__ import annotations

import asyncio
import email
import stat
from dataclasses import replace
from email import policy
from pathlib import Path

import pytest

from intake_core.adapters.file_mailer import FileMailer, MailboxClosed
from intake_core.ports.mail import OutgoingEmail

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


def numbered(number: int) -> OutgoingEmail:
    return replace(AN_EMAIL, message_id=f"<event-{number}@notify.intake>")


async def test_file_mailer_writes_emails_sent_together_each_whole_and_private(
    tmp_path: Path,
) -> None:
    mailbox = tmp_path / "mail"
    mailer = FileMailer(mailbox)
    # Sent at once, most of them wait while the mailbox's thread writes and go in its next turn.
    await asyncio.gather(*(mailer.send(numbered(number)) for number in range(200)))
    paths = sorted(mailbox.iterdir())
    assert len(paths) == 200
    assert all(path.suffix == ".eml" for path in paths)  # no temporary file left behind
    ids = {email.message_from_bytes(path.read_bytes())["Message-ID"] for path in paths}
    assert ids == {numbered(number).message_id for number in range(200)}
    assert {stat.S_IMODE(path.stat().st_mode) for path in paths} == {0o600}
    await mailer.close()


async def test_an_email_that_cannot_be_written_fails_alone(tmp_path: Path) -> None:
    mailbox = tmp_path / "mail"
    mailer = FileMailer(mailbox)
    mailbox.mkdir()
    mailer.path_for(numbered(3)).mkdir()  # its file's name is taken by a folder
    sent = await asyncio.gather(
        *(mailer.send(numbered(number)) for number in range(6)), return_exceptions=True
    )
    assert [type(outcome) for outcome in sent] == [type(None)] * 3 + [IsADirectoryError] + [
        type(None)
    ] * 2
    assert len(list(mailbox.glob("*.eml"))) == 6  # five emails and the folder
    assert not list(mailbox.glob("*.tmp"))
    await mailer.close()


async def test_a_closed_file_mailer_refuses_to_send(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "mail")
    await mailer.send(AN_EMAIL)
    await mailer.close()
    with pytest.raises(MailboxClosed):
        await mailer.send(numbered(2))
