"""The mailer: sending a rendered email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered email. Headers come from configuration and ids, never from raw user input."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> None: ...
