"""Configuration of the notifier (Azure Function and local worker alike)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from intake_core.domain.models import ServiceType
from intake_core.settings import StoreBreakerSettings

# Messages the worker handles at once unless WORKER_CONCURRENCY says otherwise (handled_at_once).
LOCAL_MAILER_CONCURRENCY = 32
REMOTE_MAILER_CONCURRENCY = 8


class NotifySettings(StoreBreakerSettings):
    mailer: Literal["file", "smtp", "acs"] = "file"
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

    # MAILER=smtp
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    # MAILER=acs: managed identity unless a key is given (emulators and tests)
    acs_endpoint: str | None = None
    acs_key: SecretStr | None = None

    # Resilience of every mailer: bounded retries with jitter, then a breaker.
    mail_timeout_seconds: float = Field(default=10.0, gt=0)
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

    @model_validator(mode="after")
    def _mailer_configured(self) -> Self:
        if self.mailer == "smtp" and not self.smtp_host:
            raise ValueError("MAILER=smtp needs SMTP_HOST")
        if self.mailer == "acs" and not self.acs_endpoint:
            raise ValueError("MAILER=acs needs ACS_ENDPOINT")
        if self.mailer == "file" and not self.is_dev:
            raise ValueError(
                f"MAILER=file writes .eml files; use smtp or acs in {self.environment}"
            )
        return self
