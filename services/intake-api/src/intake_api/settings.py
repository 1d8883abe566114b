"""intake-api configuration from environment variables (built in ``main``, never at import)."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from intake_core.settings import StoreBreakerSettings

DEV_IP_HASH_SALT = "dev-only-ip-hash-salt"


class IntakeApiSettings(StoreBreakerSettings):
    max_body_bytes: int = Field(default=1_000_000, ge=1, description="Larger bodies get 413")

    rate_limit_enabled: bool = Field(default=True, description="False only for load tests")
    rate_limit_per_minute: int = Field(
        default=30, ge=1, description="Requests per source IP and endpoint (burst = the same)"
    )

    relay_enabled: bool = True
    relay_poll_interval_seconds: float = Field(default=1.0, gt=0)
    relay_batch_size: int = Field(default=50, ge=1, le=1000)
    relay_lease_seconds: float = Field(default=30.0, gt=0)
    publish_timeout_seconds: float = Field(default=5.0, gt=0)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0)

    ip_hash_salt: SecretStr = Field(
        default=SecretStr(DEV_IP_HASH_SALT),
        description="Key for hashing source IPs in the audit trail; required outside dev",
    )
    privacy_notice_versions: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated privacy notice versions accepted; empty accepts any",
    )

    @field_validator("privacy_notice_versions", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _real_salt_outside_dev(self) -> Self:
        salt = self.ip_hash_salt.get_secret_value()
        if not self.is_dev and (salt == DEV_IP_HASH_SALT or len(salt) < 16):
            raise ValueError(
                f"IP_HASH_SALT must be set to a secret of at least 16 characters"
                f" when ENVIRONMENT={self.environment}"
            )
        return self
