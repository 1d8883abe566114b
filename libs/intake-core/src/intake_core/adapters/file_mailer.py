"""The embedded mailer: each email becomes one ``.eml`` file in a folder."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from intake_core.ports import OutgoingEmail


def to_mime(email: OutgoingEmail) -> EmailMessage:
    """multipart/alternative with a text/plain and a text/html part."""
    message = EmailMessage()
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(localtime=False)
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = email.subject
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
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
        self._folder.mkdir(parents=True, exist_ok=True)
        data = to_mime(email).as_bytes()
        # Write then rename, so a reader never sees half an email.
        handle, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, self.path_for(email))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
