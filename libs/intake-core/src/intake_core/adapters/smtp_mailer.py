"""Mailer over SMTP with STARTTLS (``aiosmtplib``), for relaying through a company server."""

from __future__ import annotations

import ssl

import aiosmtplib

from intake_core.adapters.file_mailer import eml_bytes
from intake_core.ports.mail import OutgoingEmail


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout_seconds: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout_seconds
        self._tls_context = tls_context or ssl.create_default_context()

    async def send(self, email: OutgoingEmail) -> None:
        # One connection per email: sends are rare, and a pooled connection would go stale.
        await aiosmtplib.send(
            eml_bytes(email),
            sender=email.sender,
            recipients=list(email.recipients),
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            start_tls=self._starttls,
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
