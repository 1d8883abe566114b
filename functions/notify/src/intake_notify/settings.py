"""Configuration of the notifier (Azure Function and local worker alike)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from intake_core.domain.models import ServiceType
from intake_core.settings import CommonSettings


class NotifySettings(CommonSettings):
    mailer: Literal["file", "smtp", "acs"] = "file"
    mail_sender: str = "onboarding@consultancy.example"
    sales_team: tuple[str, ...] = ("sales@consultancy.example",)
    # Service types that go to a specialist team as well, e.g. {"training": ["academy@…"]}.
    routes: dict[ServiceType, tuple[str, ...]] = Field(default_factory=dict)
    public_ui_url: str = "http://127.0.0.1:8000"
    notify_metrics_port: int = 8003
    worker_concurrency: int = Field(default=8, ge=1, le=64)
    shutdown_grace_seconds: float = 20.0

    def recipients_for(self, service_type: ServiceType) -> tuple[str, ...]:
        extra = self.routes.get(service_type, ())
        return tuple(dict.fromkeys((*self.sales_team, *extra)))

    @model_validator(mode="after")
    def _mailer_available(self) -> Self:
        # SMTP and ACS mailers arrive with issue #5; refuse clearly rather than half-work.
        if self.mailer != "file":
            raise ValueError(f"MAILER={self.mailer} is not available in this build; use file")
        return self
