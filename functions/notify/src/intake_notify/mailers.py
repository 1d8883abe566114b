"""The sales team's mailer: the mail service ``bootstrap.open_mailer`` chose, with bounded
retries and a circuit breaker.

Retries (tenacity, exponential with jitter) absorb a blip; the breaker stops a dead mail server
from being hammered, and tells the worker to stop taking messages, so they wait in the queue
instead of burning their delivery count.
"""

from __future__ import annotations

import asyncio
import logging

from tenacity import AsyncRetrying, stop_after_attempt, wait_random_exponential

from intake_core.bootstrap import open_mailer
from intake_core.breakers import Breaker
from intake_core.ports.mail import Mailer, OutgoingEmail
from intake_notify.settings import NotifySettings

logger = logging.getLogger(__name__)


class MailerUnavailable(Exception):
    """The mail service is failing; the message should wait and be delivered again."""


class SalesTeamMailer:
    """How the notifier reaches the sales team: through ``service``, tried ``attempts`` times
    per email, each try within ``timeout_seconds``, and not at all while the breaker is open."""

    def __init__(
        self,
        service: Mailer,
        *,
        attempts: int = 3,
        timeout_seconds: float = 10.0,
        max_wait_seconds: float = 2.0,
        breaker_failures: int = 5,
        breaker_reset_seconds: float = 30.0,
    ) -> None:
        self._service = service
        self._attempts = attempts
        self._timeout = timeout_seconds
        self._max_wait = max_wait_seconds
        self.breaker = Breaker(
            "mailer",
            breaker_failures,
            breaker_reset_seconds,
            refused=MailerUnavailable,
            on_open=lambda: logger.warning("mailer circuit opened; messages wait in the queue"),
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

    async def close(self) -> None:
        close = getattr(self._service, "close", None)
        if close is not None:
            await close()

    async def _send_with_retries(self, email: OutgoingEmail) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_random_exponential(multiplier=0.2, max=self._max_wait),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                async with asyncio.timeout(self._timeout):
                    await self._service.send(email)


def open_sales_team_mailer(settings: NotifySettings) -> SalesTeamMailer:
    return SalesTeamMailer(
        open_mailer(settings),
        attempts=settings.mail_attempts,
        timeout_seconds=settings.mail_timeout_seconds,
        breaker_failures=settings.mail_breaker_failures,
        breaker_reset_seconds=settings.mail_breaker_reset_seconds,
    )
