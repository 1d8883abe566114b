"""The mailer chosen by configuration, wrapped in bounded retries and a circuit breaker.

Retries (tenacity, exponential with jitter) absorb a blip; the breaker stops a dead mail server
from being hammered, and tells the worker to stop taking messages, so they wait in the queue
instead of burning their delivery count.
"""

from __future__ import annotations

import asyncio
import logging

from azure.core.credentials import AzureKeyCredential
from azure.identity.aio import DefaultAzureCredential
from tenacity import AsyncRetrying, stop_after_attempt, wait_random_exponential

from intake_core.adapters.acs_mailer import AcsMailer
from intake_core.adapters.file_mailer import FileMailer
from intake_core.adapters.smtp_mailer import SmtpMailer
from intake_core.breakers import Breaker
from intake_core.ports import Mailer, OutgoingEmail
from intake_notify.settings import NotifySettings

log = logging.getLogger(__name__)


class MailerUnavailable(Exception):
    """The mail service is failing; the message should wait and be delivered again."""


class ResilientMailer:
    def __init__(
        self,
        mailer: Mailer,
        *,
        attempts: int = 3,
        timeout_seconds: float = 10.0,
        max_wait_seconds: float = 2.0,
        breaker_failures: int = 5,
        breaker_reset_seconds: float = 30.0,
    ) -> None:
        self.inner = mailer
        self._attempts = attempts
        self._timeout = timeout_seconds
        self._max_wait = max_wait_seconds
        self.breaker = Breaker(
            "mailer",
            breaker_failures,
            breaker_reset_seconds,
            refused=MailerUnavailable,
            on_open=lambda: log.warning("mailer circuit opened; messages wait in the queue"),
        )

    @property
    def accepting(self) -> bool:
        return self.admits(1) > 0

    def admits(self, wanted: int) -> int:
        """How many messages a worker may take now (see :meth:`Breaker.admits`)."""
        return self.breaker.admits(wanted)

    async def send(self, email: OutgoingEmail) -> None:
        """Raises :class:`MailerUnavailable` at once while the breaker is open."""
        with self.breaker.guarding():
            await self._send_with_retries(email)

    async def _send_with_retries(self, email: OutgoingEmail) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_random_exponential(multiplier=0.2, max=self._max_wait),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                async with asyncio.timeout(self._timeout):
                    await self.inner.send(email)


def open_mailer(settings: NotifySettings) -> ResilientMailer:
    inner: Mailer
    if settings.mailer == "smtp":
        assert settings.smtp_host is not None
        inner = SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.mail_timeout_seconds,
        )
    elif settings.mailer == "acs":
        assert settings.acs_endpoint is not None
        credential = (
            AzureKeyCredential(settings.acs_key.get_secret_value())
            if settings.acs_key
            else DefaultAzureCredential()
        )
        inner = AcsMailer(settings.acs_endpoint, credential)
    else:
        inner = FileMailer(settings.mail_dir)
    return ResilientMailer(
        inner,
        attempts=settings.mail_attempts,
        timeout_seconds=settings.mail_timeout_seconds,
        breaker_failures=settings.mail_breaker_failures,
        breaker_reset_seconds=settings.mail_breaker_reset_seconds,
    )


async def close_mailer(mailer: ResilientMailer) -> None:
    close = getattr(mailer.inner, "close", None)
    if close is not None:
        await close()
