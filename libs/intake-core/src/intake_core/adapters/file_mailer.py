"""The embedded mailer: each email becomes one ``.eml`` file in a folder."""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from email.header import Header
from email.policy import Compat32
from email.utils import formatdate
from pathlib import Path
from typing import cast

from intake_core.adapters.thread_lane import Lane, run_each
from intake_core.ports.mail import OutgoingEmail


def written_as_is(text: str) -> bool:
    """Whether a header's text can be written as it is: ASCII that holds nothing a mail client
    would read as an RFC 2047 encoded word. A company name typed as ``=?utf-8?b?…?=`` would
    otherwise be decoded by the client into whatever it encodes (line breaks, a ``Bcc:``,
    text-direction marks: all refused in the name itself); encoded in turn, it reads as typed."""
    return text.isascii() and "=?" not in text


def _header_text(text: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words, folded when the header is written.

    ``compat32``'s folding takes a ``Header`` object in place of a string; typeshed admits only
    ``str``.
    """
    return text if written_as_is(text) else cast(str, Header(text, "utf-8"))


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
_LINE_BREAK = re.compile(rb"\r\n|\r")
# A new email file: only this user may read it, as with ``tempfile``.
_CREATE_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _headers(pairs: list[tuple[str, str]]) -> bytes:
    return b"".join(MIME_POLICY.fold_binary(name, value) for name, value in pairs)


def _part_head(subtype: str) -> bytes:
    """A text part's headers and the blank line after them: the same for every email."""
    headers = [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("MIME-Version", "1.0"),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ]
    return _headers(headers) + b"\n"


_PART_HEADS = {subtype: _part_head(subtype) for subtype in ("plain", "html")}
_DELIMITER = f"\n--{BOUNDARY}\n".encode()
_CLOSE_DELIMITER = f"\n--{BOUNDARY}--\n".encode()


def _qp_part(text: str, subtype: str) -> bytes:
    """One text part, quoted-printable: readable in the source where the text is mostly ASCII.

    Encoded by ``binascii`` (C), not by ``email.charset`` (``quoprimime``, Python). Line breaks
    of any kind become line feeds, as the email package's generator writes them.
    """
    body = _LINE_BREAK.sub(b"\n", binascii.b2a_qp(text.encode(), istext=True))
    return _PART_HEADS[subtype] + body


def eml_bytes(email: OutgoingEmail, *, date: str | None = None) -> bytes:
    """The email as the bytes of an ``.eml`` file: multipart/alternative, text then HTML.

    Byte for byte what the email package writes for the same message built from its
    ``email.mime`` classes under ``compat32`` (a property test compares them), laid out here
    directly: the package's generator walked the message in about 90 small writes, and that
    was a fifth of the notifier's CPU for each email. Headers are still folded, and a
    non-ASCII subject encoded (RFC 2047), by the email package. User text reaches only the
    subject and the bodies; intake refuses control characters, so no header can be split.
    """
    head = _headers(
        [
            ("Content-Type", f'multipart/alternative; boundary="{BOUNDARY}"'),
            ("MIME-Version", "1.0"),
            ("Message-ID", email.message_id),
            ("Date", date or formatdate(localtime=False)),
            ("From", email.sender),
            ("To", ", ".join(email.recipients)),
            ("Subject", _header_text(email.subject)),
        ]
    )
    return b"".join(
        [
            head,
            _DELIMITER,
            _qp_part(email.text, "plain"),
            _DELIMITER,
            _qp_part(email.html, "html"),
            _CLOSE_DELIMITER,
        ]
    )


class MailboxClosed(RuntimeError):
    """An email was sent after the mailer was closed."""


class FileMailer:
    """Emails as files. The message is built on the caller's thread; only the file system calls
    go to the mailbox's own thread, and the emails that wait while it writes are written in its
    next turn, their results handed back at once (:mod:`intake_core.adapters.thread_lane`). A
    hand-over per email, and ``tempfile`` with ``os.fdopen`` around each, had been more than
    a quarter of the notifier's CPU."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._thread = Lane("mailbox", run_each(self._write), lambda: MailboxClosed(str(folder)))

    def path_for(self, email: OutgoingEmail) -> Path:
        # The same Message-ID always lands in the same file, so a resend overwrites, not adds.
        digest = hashlib.sha256(email.message_id.encode()).hexdigest()[:24]
        return self._folder / f"{digest}.eml"

    async def send(self, email: OutgoingEmail) -> None:
        await self._thread.call((eml_bytes(email), self.path_for(email)))

    async def close(self) -> None:
        await self._thread.close()

    def _write(self, email: tuple[bytes, Path]) -> None:
        """Write then rename, so a reader never sees half an email. The temporary name is the
        email's own: one thread writes this process's emails, and the process id tells this
        process's from another's."""
        data, path = email
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            handle = os.open(temporary, _CREATE_PRIVATE, 0o600)
        except FileNotFoundError:  # the first email, or someone cleared the mailbox meanwhile
            self._folder.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, _CREATE_PRIVATE, 0o600)
        try:
            try:
                unwritten = memoryview(data)
                while unwritten:
                    unwritten = unwritten[os.write(handle, unwritten) :]
            finally:
                os.close(handle)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
