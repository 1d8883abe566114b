"""Configuration shared by every service, read from environment variables.

Each service has its own subclass (``IntakeApiSettings``, …); this base holds what they share.
Settings are built in entry points, never at import time.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    STAGING = "staging"
    PROD = "prod"


DEV_ISSUER = "urn:intake:dev-issuer"
ADMIN_AUDIENCE = "api://intake-admin"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: Environment = Environment.DEV
    data_dir: Path = Field(default=Path(".data"), validation_alias="INTAKE_DATA_DIR")
    store: Literal["sqlite", "cosmos"] = "sqlite"
    # STORE=cosmos: the account's document endpoint, reached with DefaultAzureCredential
    # (workload identity). COSMOS_KEY is for emulators only (Azure accounts disable keys).
    cosmos_endpoint: str | None = None
    cosmos_database: str = "intake"
    cosmos_key: SecretStr | None = None
    bus: Literal["local", "servicebus"] = "local"
    # BUS=servicebus: a connection string (emulator, local broker) or a fully qualified
    # namespace reached with DefaultAzureCredential (production, workload identity).
    servicebus_connection_string: SecretStr | None = None
    servicebus_namespace: str | None = None
    servicebus_queue: str = "submissions"
    # Embedded adapters: how long a write waits for another process's lock before the store
    # counts as down (503), and the local queue's peek-lock and dead-letter thresholds.
    sqlite_busy_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    queue_lock_seconds: float = Field(default=30.0, gt=0, le=3600)
    queue_max_deliveries: int = Field(default=10, ge=1, le=100)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    otel_exporter: Literal["none", "otlp", "azuremonitor", "console"] = "none"
    applicationinsights_connection_string: SecretStr | None = None

    @property
    def is_dev(self) -> bool:
        return self.environment in {Environment.DEV, Environment.TEST}

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "intake.db"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @model_validator(mode="after")
    def _adapters_configured(self) -> Self:
        if (
            self.otel_exporter == "azuremonitor"
            and self.applicationinsights_connection_string is None
        ):
            raise ValueError(
                "OTEL_EXPORTER=azuremonitor needs APPLICATIONINSIGHTS_CONNECTION_STRING"
            )
        if self.store == "cosmos" and not self.cosmos_endpoint:
            raise ValueError(
                "STORE=cosmos needs COSMOS_ENDPOINT (e.g. https://name.documents.azure.com:443/)"
            )
        if self.bus == "servicebus" and not (
            self.servicebus_connection_string or self.servicebus_namespace
        ):
            raise ValueError(
                "BUS=servicebus needs SERVICEBUS_NAMESPACE (e.g. name.servicebus.windows.net)"
                " or SERVICEBUS_CONNECTION_STRING"
            )
        return self


class StoreBreakerSettings(CommonSettings):
    """The store's circuit breaker, in the processes that have one (intake-api, admin-api, the
    notifier): ``STORE_BREAKER_FAILURES`` failures in a row open it for
    ``STORE_BREAKER_RESET_SECONDS``, then one trial decides."""

    store_breaker_failures: int = Field(
        default=5, ge=1, description="Store failures in a row that open its circuit breaker"
    )
    store_breaker_reset_seconds: float = Field(
        default=15.0, gt=0, description="How long the store's breaker stays open before a trial"
    )


class MailerSettings(CommonSettings):
    """The mail service of the processes that send email (the notifier):
    ``MAILER=file|smtp|acs``, opened by :func:`intake_core.bootstrap.open_mailer`."""

    mailer: Literal["file", "smtp", "acs"] = "file"
    # MAILER=smtp
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    # MAILER=acs: managed identity unless a key is given (emulators and tests)
    acs_endpoint: str | None = None
    acs_key: SecretStr | None = None
    mail_timeout_seconds: float = Field(default=10.0, gt=0)

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


class ReadCacheSettings(CommonSettings):
    """The read cache of the services that have one (admin-api): ``CACHE=memory|redis|none``.

    ``memory`` is per process: a change made through one replica, or by the retention job,
    cannot drop another process's copy, so it is for dev and test only. Outside dev the default
    is ``none``; set ``CACHE=redis`` (Azure Cache for Redis) to cache across replicas.
    """

    cache: Literal["memory", "redis", "none"] = "memory"
    # rediss://:<access key>@<name>.redis.cache.windows.net:6380/0 in Azure (TLS, port 6380).
    redis_url: SecretStr | None = None
    # How long a copy may live, never extended: the bound on how stale a copy can be when a
    # change could not reach the cache (an erasure then answers 503 and is retried).
    cache_ttl_seconds: float = Field(default=60, gt=0, le=3600)
    cache_max_entries: int = Field(default=10_000, ge=1, le=1_000_000)

    @model_validator(mode="before")
    @classmethod
    def _no_process_cache_outside_dev_by_default(cls, data: Any) -> Any:
        if not isinstance(data, dict) or any(key.lower() == "cache" for key in data):
            return data
        environment = next((v for k, v in data.items() if k.lower() == "environment"), None)
        if environment is not None and str(environment).lower() not in {"dev", "test"}:
            return {**data, "cache": "none"}
        return data

    @model_validator(mode="after")
    def _cache_usable(self) -> Self:
        if self.cache == "redis" and self.redis_url is None:
            raise ValueError(
                "CACHE=redis needs REDIS_URL (e.g. rediss://:<key>@name.redis.cache.windows.net:6380/0)"
            )
        if self.cache == "memory" and not self.is_dev:
            raise ValueError(
                f"CACHE=memory is per process and refused when ENVIRONMENT={self.environment}:"
                " a change on one replica could not drop the others' copies;"
                " use CACHE=redis or CACHE=none"
            )
        return self


class AuthSettings(CommonSettings):
    """Who may call the admin API: the dev issuer locally, Entra ID in production."""

    auth_issuer: str = DEV_ISSUER
    auth_audience: str = ADMIN_AUDIENCE
    auth_jwks_url: str | None = None

    @property
    def uses_dev_issuer(self) -> bool:
        return self.auth_issuer == DEV_ISSUER

    @model_validator(mode="after")
    def _no_dev_issuer_in_prod(self) -> Self:
        if self.uses_dev_issuer and not self.is_dev:
            raise ValueError(
                f"the local dev token issuer is refused when ENVIRONMENT={self.environment};"
                " set AUTH_ISSUER and AUTH_JWKS_URL to your Entra ID tenant"
            )
        if not self.uses_dev_issuer and not self.auth_jwks_url:
            raise ValueError("AUTH_JWKS_URL is required with an external AUTH_ISSUER")
        return self
