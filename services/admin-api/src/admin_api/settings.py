"""Configuration of admin-api, read from environment variables in the entry point."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from intake_core.settings import AuthSettings, ReadCacheSettings, StoreBreakerSettings

DEV_PAGE_TOKEN_SECRET = "dev-only-page-token-secret-do-not-use-in-prod"  # noqa: S105 - refused outside dev
MIN_SECRET_LENGTH = 32


class AdminApiSettings(AuthSettings, ReadCacheSettings, StoreBreakerSettings):
    """``ADMIN_PAGE_TOKEN_SECRET`` signs continuation tokens; every replica needs the same one.
    ``CACHE`` and friends choose the read cache of records and figures (``ReadCacheSettings``).
    ``STORE_BREAKER_*`` set the store's circuit breaker, as in intake-api and the notifier
    (``StoreBreakerSettings``).
    ``ADMIN_FIGURES_CACHE_SECONDS`` bounds how long the dashboard figures may miss new
    submissions (intake-api cannot drop admin-api's cached figures)."""

    admin_page_token_secret: SecretStr = SecretStr(DEV_PAGE_TOKEN_SECRET)
    admin_max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    admin_figures_cache_seconds: float = Field(default=30, gt=0, le=3600)

    @model_validator(mode="after")
    def _real_secret_outside_dev(self) -> Self:
        secret = self.admin_page_token_secret.get_secret_value()
        if not self.is_dev and secret == DEV_PAGE_TOKEN_SECRET:
            raise ValueError(
                f"ADMIN_PAGE_TOKEN_SECRET must be set when ENVIRONMENT={self.environment}"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"ADMIN_PAGE_TOKEN_SECRET needs at least {MIN_SECRET_LENGTH} characters"
            )
        return self
