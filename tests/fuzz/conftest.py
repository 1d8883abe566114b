"""Real intake-api and admin-api apps over SQLite in tmp_path, one pair per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzz.apps import StaffTokens, admin_settings, intake_settings, seed_store

from admin_api.app import create_app as create_admin_app
from intake_api.app import create_app as create_intake_app
from intake_core.auth import DevIssuer


@pytest.fixture
async def intake_app(tmp_path: Path) -> Any:
    """Not started here: schemathesis runs its lifespan on the first call (adapters, relay)
    and ends it when the test ends."""
    settings = intake_settings(tmp_path)
    await seed_store(settings.sqlite_path)
    return create_intake_app(settings)


@pytest.fixture(scope="session")
def issuer_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One RSA key for the run: making one per test costs more than the test."""
    directory = tmp_path_factory.mktemp("issuer")
    DevIssuer(directory).public_key()
    return (directory / "dev-issuer" / "private-key.pem").read_bytes()


@pytest.fixture
async def admin_app(tmp_path: Path, issuer_key: bytes) -> Any:
    settings = admin_settings(tmp_path, issuer_key)
    await seed_store(settings.sqlite_path)
    return create_admin_app(settings)


@pytest.fixture
def staff(tmp_path: Path, admin_app: Any) -> StaffTokens:
    """Tokens from the issuer ``admin_app`` trusts (its key is in the same data dir)."""
    return StaffTokens(DevIssuer(tmp_path))
