"""The dev mailer's folder of ``.eml`` files, read for the dev mailbox viewer.

Files come from ``FileMailer`` but are treated as hostile: a message is found only by a file
stem that matches a strict pattern and names a regular file directly in the folder (no path is
built from anything else), oversized files are not parsed, and any part that does not decode
is shown as best it can be rather than failing the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

MESSAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
MAX_LISTED = 200


@dataclass(frozen=True)
class MailSummary:
    message_id: str
    subject: str
    to: str
    sent_at: datetime


@dataclass(frozen=True)
class MailMessage:
    summary: MailSummary
    sender: str
    text: str | None
    html: str | None


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except (ValueError, TypeError, IndexError, LookupError):
        return "(unreadable header)"


def _sent_at(message: EmailMessage, path: Path) -> datetime:
    try:
        sent = parsedate_to_datetime(_header(message, "Date"))
    except (ValueError, TypeError, IndexError):
        sent = None
    if sent is None:
        return _mtime(path)
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if not isinstance(part, EmailMessage):
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError, UnicodeError, KeyError):
        # An unknown charset or a broken encoding: show the bytes as UTF-8, replacing the rest.
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else None
    return content if isinstance(content, str) else None


class MailFolder:
    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def _files(self) -> list[Path]:
        if not self._folder.is_dir():
            return []
        dated = []
        for path in self._folder.glob("*.eml"):
            if not MESSAGE_ID.fullmatch(path.stem) or path.is_symlink():
                continue
            try:
                if path.is_file():
                    dated.append((path.stat().st_mtime, path))
            except OSError:
                continue
        return [path for _, path in sorted(dated, key=lambda item: item[0], reverse=True)]

    def _parse(self, path: Path, *, headers_only: bool) -> EmailMessage | None:
        if path.stat().st_size > MAX_MESSAGE_BYTES:
            return None
        with path.open("rb") as file:
            message = BytesParser(policy=policy.default).parse(file, headersonly=headers_only)
        return message if isinstance(message, EmailMessage) else None

    def _summary(self, path: Path, message: EmailMessage | None) -> MailSummary:
        if message is None:
            return MailSummary(path.stem, "(too large to show)", "", _mtime(path))
        subject = _header(message, "Subject") or "(no subject)"
        return MailSummary(path.stem, subject, _header(message, "To"), _sent_at(message, path))

    def newest(self, limit: int = MAX_LISTED) -> list[MailSummary]:
        """The newest messages first (by when the file was written)."""
        found = []
        for path in self._files()[:limit]:
            try:
                found.append(self._summary(path, self._parse(path, headers_only=True)))
            except OSError:  # deleted while we looked
                continue
        return found

    def read(self, message_id: str) -> MailMessage | None:
        """The message whose file stem is ``message_id``; None for anything else."""
        if not MESSAGE_ID.fullmatch(message_id):
            return None
        path = self._folder / f"{message_id}.eml"
        if path.parent != self._folder or not path.is_file() or path.is_symlink():
            return None
        try:
            message = self._parse(path, headers_only=False)
            summary = self._summary(path, message)
        except OSError:  # deleted while we looked
            return None
        if message is None:
            return MailMessage(summary, "", None, None)
        return MailMessage(
            summary, _header(message, "From"), _part(message, "plain"), _part(message, "html")
        )


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
