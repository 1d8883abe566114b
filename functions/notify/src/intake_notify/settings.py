"""Configuration of the notifier (Azure Function and local worker alike)."""

from __future__ import annotations

from pydantic import Field

from intake_core.domain.models import ServiceType
from intake_core.settings import MailerSettings, StoreBreakerSettings

# Messages the worker handles at once unless WORKER_CONCURRENCY says otherwise (handled_at_once).
LOCAL_MAILER_CONCURRENCY = 32
REMOTE_MAILER_CONCURRENCY = 8


class NotifySettings(StoreBreakerSettings, MailerSettings):
    """The mail service (``MAILER``, SMTP, ACS, ``MAIL_TIMEOUT_SECONDS``) is in
    :class:`MailerSettings`; here is what the notifier does with it."""

    mail_sender: str = "onboarding@consultancy.example"
    sales_team: tuple[str, ...] = ("sales@consultancy.example",)
    # Service types that go to a specialist team as well, e.g. {"training": ["academy@…"]}.
    routes: dict[ServiceType, tuple[str, ...]] = Field(default_factory=dict)
    public_ui_url: str = "http://127.0.0.1:8000"
    notify_metrics_host: str = "127.0.0.1"  # 0.0.0.0 in a container, for probes and Prometheus
    notify_metrics_port: int = 8003
    worker_concurrency: int | None = Field(default=None, ge=1, le=64)  # see handled_at_once
    shutdown_grace_seconds: float = 20.0
    # /healthz (the liveness probe) fails once the receive loop has not come round for this
    # long: a hung receive or handler, which kubelet then restarts. The loop's own longest
    # waits are its 30 s back-off after a failed receive and one message's mail retries (about
    # 35 s with the defaults), so the default leaves room for both.
    worker_stall_seconds: float = Field(default=120.0, gt=0)

    # The sales team's mailer: bounded retries with jitter (each try within
    # MAIL_TIMEOUT_SECONDS), then a breaker.
    mail_attempts: int = Field(default=3, ge=1, le=10)
    mail_breaker_failures: int = Field(default=5, ge=1)
    mail_breaker_reset_seconds: float = Field(default=30.0, gt=0)

    @property
    def handled_at_once(self) -> int:
        """How many messages the worker handles at once: ``WORKER_CONCURRENCY``, or by mailer.

        The store, the queue and the file mailer each hand their work to a thread that takes
        whatever waits as one batch, so more messages in flight mean fewer hand-overs (and
        system calls) per email: 32 rather than 8 cut the notifier's CPU per email by about a
        fifth under load (README, Performance). SMTP and ACS cost a connection or a request per
        email, which relays and ACS limit, so they keep 8.
        """
        if self.worker_concurrency is not None:
            return self.worker_concurrency
        return LOCAL_MAILER_CONCURRENCY if self.mailer == "file" else REMOTE_MAILER_CONCURRENCY

    def recipients_for(self, service_type: ServiceType) -> tuple[str, ...]:
        extra = self.routes.get(service_type, ())
        return tuple(dict.fromkeys((*self.sales_team, *extra)))
