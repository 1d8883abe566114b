"""Configuration of the intake UI, read from environment variables in ``main.py``."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from starlette.requests import HTTPConnection

from intake_core.domain.models import Email
from intake_core.settings import CommonSettings

# A fixed secret for dev and test only, so every local replica signs sessions alike.
DEV_SESSION_SECRET = "dev-only-intake-ui-session-secret-do-not-use-in-prod"  # noqa: S105
MIN_SECRET_LENGTH = 32


class IntakeUiSettings(CommonSettings):
    intake_api_url: str = "http://127.0.0.1:8001"
    admin_api_url: str = "http://127.0.0.1:8002"
    session_secret: SecretStr = Field(
        default=SecretStr(DEV_SESSION_SECRET), validation_alias="UI_SESSION_SECRET"
    )
    request_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    submit_attempts: int = Field(default=3, ge=1, le=10)
    privacy_notice_version: str = Field(default="2026-01", min_length=1, max_length=32)
    # Where clients write about their data (copy, correction, erasure): shown in the notice.
    # (intake_core's Email: checked with email-validator, stored normalised.)
    privacy_contact_email: Email = "privacy@consultancy.example"
    max_body_bytes: int = Field(default=256 * 1024, ge=16 * 1024)
    # Staff sign-in with Microsoft Entra ID (OIDC authorization code + PKCE). The authority is
    # tenant specific: https://login.microsoftonline.com/<tenant id>. The client secret is
    # optional (a public client with PKCE needs none); in AKS it comes from Key Vault through
    # the CSI secret store, as an environment variable.
    admin_oidc_authority: str | None = None
    admin_oidc_client_id: str | None = None
    admin_oidc_client_secret: SecretStr | None = None
    admin_oidc_redirect_url: str | None = None
    admin_oidc_scopes: str = "openid profile api://intake-admin/.default"
    admin_page_size: int = Field(default=25, ge=1, le=100)

    @model_validator(mode="after")
    def _session_secret_outside_dev(self) -> Self:
        secret = self.session_secret.get_secret_value()
        if not self.is_dev and secret == DEV_SESSION_SECRET:
            raise ValueError(f"UI_SESSION_SECRET is required when ENVIRONMENT={self.environment}")
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"UI_SESSION_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return self

    @model_validator(mode="after")
    def _staff_sign_in_complete(self) -> Self:
        if bool(self.admin_oidc_authority) != bool(self.admin_oidc_client_id):
            raise ValueError("set both ADMIN_OIDC_AUTHORITY and ADMIN_OIDC_CLIENT_ID, or neither")
        if self.is_dev or not self.admin_oidc_authority:
            return self
        # Outside dev the redirect URL is fixed: never derived from a request's Host header.
        urls = (self.admin_oidc_authority, self.admin_oidc_redirect_url or "")
        if not all(url.startswith("https://") for url in urls):
            raise ValueError("ADMIN_OIDC_AUTHORITY and ADMIN_OIDC_REDIRECT_URL must be https URLs")
        return self

    @property
    def staff_sign_in_configured(self) -> bool:
        return bool(self.admin_oidc_authority and self.admin_oidc_client_id)

    @property
    def secret_key(self) -> str:
        return self.session_secret.get_secret_value()

    @property
    def secure_cookies(self) -> bool:
        return not self.is_dev

    @classmethod
    def __from_request__(cls, req: HTTPConnection) -> IntakeUiSettings:
        """Lets FastHTML routes declare ``settings: IntakeUiSettings`` as a parameter."""
        settings = req.app.state.settings
        assert isinstance(settings, IntakeUiSettings)
        return settings
