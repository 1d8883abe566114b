"""intake-api settings: safe defaults in dev, refusal of unsafe ones elsewhere."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from intake_api.settings import IntakeApiSettings


def test_dev_defaults(tmp_path) -> None:
    settings = IntakeApiSettings(INTAKE_DATA_DIR=tmp_path)
    assert settings.max_body_bytes == 1_000_000
    assert settings.rate_limit_enabled
    assert settings.rate_limit_per_minute == 30
    assert settings.privacy_notice_versions == ()


def test_the_dev_salt_is_refused_in_prod(monkeypatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "prod")
    with pytest.raises(ValidationError, match="IP_HASH_SALT"):
        IntakeApiSettings()
    monkeypatch.setenv("IP_HASH_SALT", "short")
    with pytest.raises(ValidationError, match="IP_HASH_SALT"):
        IntakeApiSettings()
    monkeypatch.setenv("IP_HASH_SALT", "a-real-secret-of-enough-length")
    assert IntakeApiSettings().ip_hash_salt.get_secret_value() == "a-real-secret-of-enough-length"


def test_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("RATE_LIMIT_ENABLED", "false")
    monkeypatch.setenv("PRIVACY_NOTICE_VERSIONS", "2025-06, 2026-01,")
    settings = IntakeApiSettings()
    assert settings.max_body_bytes == 2048
    assert not settings.rate_limit_enabled
    assert settings.privacy_notice_versions == ("2025-06", "2026-01")


def test_the_salt_never_shows_in_a_repr() -> None:
    settings = IntakeApiSettings(ip_hash_salt="do-not-print-this-salt")
    assert "do-not-print-this-salt" not in repr(settings)
