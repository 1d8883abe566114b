"""CACHE, REDIS_URL, CACHE_TTL_SECONDS: safe defaults per environment, fail fast otherwise."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from admin_api.settings import AdminApiSettings
from intake_core.settings import ReadCacheSettings

PROD_SECRET = "p" * 40


def test_dev_and_test_default_to_the_in_process_cache_for_sixty_seconds() -> None:
    for environment in ("dev", "test"):
        settings = ReadCacheSettings(environment=environment)
        assert settings.cache == "memory"
        assert settings.cache_ttl_seconds == 60


def test_outside_dev_the_default_is_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "prod")
    assert ReadCacheSettings().cache == "none"
    assert ReadCacheSettings(environment="staging").cache == "none"


def test_the_in_process_cache_is_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("CACHE", "memory")
    with pytest.raises(ValidationError, match="CACHE=memory is per process"):
        ReadCacheSettings()


def test_redis_needs_its_url_which_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="CACHE=redis needs REDIS_URL"):
        ReadCacheSettings(cache="redis")
    monkeypatch.setenv("CACHE", "redis")
    monkeypatch.setenv("REDIS_URL", "rediss://:s3cret-key@example.redis.cache.windows.net:6380/0")
    settings = ReadCacheSettings(environment="prod")
    assert settings.cache == "redis"
    assert "s3cret-key" not in repr(settings) and "s3cret-key" not in str(settings.model_dump())


@pytest.mark.parametrize("ttl", ["0", "-1", "3601", "soon"])
def test_a_ttl_outside_one_hour_is_refused(monkeypatch: pytest.MonkeyPatch, ttl: str) -> None:
    monkeypatch.setenv("CACHE_TTL_SECONDS", ttl)
    with pytest.raises(ValidationError):
        ReadCacheSettings()


@pytest.mark.parametrize("value", ["memcached", "", "REDIS"])
def test_an_unknown_cache_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CACHE", value)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(ValidationError):
        ReadCacheSettings()


def test_admin_api_reads_the_cache_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE", "none")
    monkeypatch.setenv("CACHE_TTL_SECONDS", "15")
    settings = AdminApiSettings()
    assert (settings.cache, settings.cache_ttl_seconds) == ("none", 15)
    monkeypatch.delenv("CACHE")
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("AUTH_ISSUER", "https://login.microsoftonline.com/t/v2.0")
    monkeypatch.setenv("AUTH_JWKS_URL", "https://login.microsoftonline.com/t/discovery/v2.0/keys")
    monkeypatch.setenv("ADMIN_PAGE_TOKEN_SECRET", PROD_SECRET)
    assert AdminApiSettings().cache == "none"
