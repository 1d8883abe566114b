"""The embedded mailer: each email becomes one ``.eml`` file in a folder."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formatdate
from pathlib import Path
from typing import cast

from intake_core.ports import OutgoingEmail


def _utf8_text(text: str, subtype: str) -> MIMENonMultipart:
    # Quoted-printable keeps the source readable where it is mostly ASCII (the .eml files).
    charset = Charset("utf-8")
    charset.body_encoding = QP
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, charset)
    return part


def _header_text(text: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words, folded when the header is written.

    The classic message classes take a ``Header`` object here; typeshed admits only ``str``.
    """
    return text if text.isascii() else cast(str, Header(text, "utf-8"))


def to_mime(email: OutgoingEmail) -> Message:
    """multipart/alternative with a text/plain and a text/html part.

    Built with the classic ``email.mime`` classes: the modern ``EmailMessage`` API parses and
    refolds every header it is given, which made building a message most of the notifier's CPU
    time (about 5 ms each). User text reaches only the subject (encoded as RFC 2047 when not
    ASCII) and the bodies; intake refuses control characters, so no header can be split.
    """
    # "=_" cannot occur in quoted-printable text, so this boundary needs no search of the bodies.
    message = MIMEMultipart("alternative", boundary=f"=_{uuid.uuid4().hex}")
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(localtime=False)
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = _header_text(email.subject)
    message.attach(_utf8_text(email.text, "plain"))
    message.attach(_utf8_text(email.html, "html"))
    return message


class FileMailer:
    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def path_for(self, email: OutgoingEmail) -> Path:
        # The same Message-ID always lands in the same file, so a resend overwrites, not adds.
        digest = hashlib.sha256(email.message_id.encode()).hexdigest()[:24]
        return self._folder / f"{digest}.eml"

    async def send(self, email: OutgoingEmail) -> None:
        await asyncio.to_thread(self._write, email)

    def _write(self, email: OutgoingEmail) -> None:
        data = to_mime(email).as_bytes()
        # Write then rename, so a reader never sees half an email.
        try:
            handle, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        except FileNotFoundError:  # the first email, or someone cleared the mailbox meanwhile
            self._folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, self.path_for(email))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
