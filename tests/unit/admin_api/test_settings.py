"""AdminApiSettings refuses unsafe defaults outside dev."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from admin_api.settings import AdminApiSettings

PROD_AUTH = {
    "AUTH_ISSUER": "https://login.microsoftonline.com/tenant/v2.0",
    "AUTH_JWKS_URL": "https://login.microsoftonline.com/tenant/discovery/v2.0/keys",
}


def test_dev_defaults_work_in_dev(monkeypatch, tmp_path):
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path))
    settings = AdminApiSettings()
    assert settings.is_dev and settings.uses_dev_issuer


def test_prod_refuses_the_dev_page_token_secret(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "prod")
    for name, value in PROD_AUTH.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="ADMIN_PAGE_TOKEN_SECRET"):
        AdminApiSettings()
    monkeypatch.setenv("ADMIN_PAGE_TOKEN_SECRET", "z" * 40)
    assert AdminApiSettings().admin_page_token_secret.get_secret_value() == "z" * 40


def test_prod_refuses_the_dev_issuer(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("ADMIN_PAGE_TOKEN_SECRET", "z" * 40)
    with pytest.raises(ValidationError, match="dev token issuer"):
        AdminApiSettings()


def test_a_short_secret_is_refused(monkeypatch):
    monkeypatch.setenv("ADMIN_PAGE_TOKEN_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        AdminApiSettings()
