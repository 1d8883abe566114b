"""The embedded mailer: each email becomes one ``.eml`` file in a folder."""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formatdate
from pathlib import Path
from typing import cast

from intake_core.ports import OutgoingEmail


def _utf8_text(text: str, subtype: str) -> MIMENonMultipart:
    """Quoted-printable keeps the source readable where it is mostly ASCII (the .eml files).

    Encoded by ``binascii`` (C), not by ``email.charset`` (``quoprimime``, Python, a third of
    the time it took to build an email: 410 → 270 µs). Both are RFC 2045 quoted-printable.
    """
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode(), istext=True).decode("ascii"))
    return part


def _header_text(text: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words, folded when the header is written.

    The classic message classes take a ``Header`` object here; typeshed admits only ``str``.
    """
    return text if text.isascii() else cast(str, Header(text, "utf-8"))


class _ShortAsciiUnfolded(Compat32):
    """``compat32`` that writes a short ASCII header line as it is.

    ``compat32`` runs every header, however short, through ``email.header.Header``'s folding:
    for the dozen short ASCII headers of a notification, more than half the time it took to
    turn it into bytes. The output is the same (a property test checks it).
    """

    def _unfolded(self, name: str, value: str) -> str | None:
        if not isinstance(value, str):  # a Header object: an encoded non-ASCII subject
            return None
        fits = len(name) + 2 + len(value) <= (self.max_line_length or 0)
        if fits and value.isascii() and value.isprintable():  # no tab, no line break of any kind
            return f"{name}: {value}{self.linesep}"
        return None

    def fold(self, name: str, value: str) -> str:
        return self._unfolded(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        line = self._unfolded(name, value)
        return line.encode("ascii") if line else super().fold_binary(name, value)


MIME_POLICY = _ShortAsciiUnfolded()
# Both parts are quoted-printable, where "=" is always followed by two hex digits or a line
# break: "=_" cannot occur in them, so a fixed boundary is safe (and needs no random bytes).
BOUNDARY = "=_intake-notification"


def to_mime(email: OutgoingEmail) -> Message:
    """multipart/alternative with a text/plain and a text/html part.

    Built with the classic ``email.mime`` classes: the modern ``EmailMessage`` API parses and
    refolds every header it is given, which made building a message most of the notifier's CPU
    time (about 5 ms each). User text reaches only the subject (encoded as RFC 2047 when not
    ASCII) and the bodies; intake refuses control characters, so no header can be split.
    """
    message = MIMEMultipart("alternative", boundary=BOUNDARY)
    message["Message-ID"] = email.message_id
    message["Date"] = formatdate(localtime=False)
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = _header_text(email.subject)
    message.attach(_utf8_text(email.text, "plain"))
    message.attach(_utf8_text(email.html, "html"))
    return message


class FileMailer:
    """Emails as files. The message is built on the caller's thread; only the file system calls
    go to the mailbox's own thread, one email at a time: several threads, each building and
    writing, spent more time passing the interpreter's lock around than writing."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailbox")

    def path_for(self, email: OutgoingEmail) -> Path:
        # The same Message-ID always lands in the same file, so a resend overwrites, not adds.
        digest = hashlib.sha256(email.message_id.encode()).hexdigest()[:24]
        return self._folder / f"{digest}.eml"

    async def send(self, email: OutgoingEmail) -> None:
        data = to_mime(email).as_bytes(policy=MIME_POLICY)
        await asyncio.get_running_loop().run_in_executor(
            self._thread, self._write, data, self.path_for(email)
        )

    async def close(self) -> None:
        self._thread.shutdown(wait=True)

    def _write(self, data: bytes, path: Path) -> None:
        # Write then rename, so a reader never sees half an email.
        try:
            handle, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        except FileNotFoundError:  # the first email, or someone cleared the mailbox meanwhile
            self._folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
