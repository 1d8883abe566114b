"""The apps under test, their stored records and the staff tokens they trust."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from admin_api.app import create_app as create_admin_app
from admin_api.settings import AdminApiSettings
from intake_api.app import create_app as create_intake_app
from intake_api.settings import IntakeApiSettings
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES, DevIssuer
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import check_symbol
from intake_core.domain.events import submission_created
from support import VALID_BODY, make_submission

SEEDED_EMAIL: str = VALID_BODY["company"]["contact"]["email"]


def _client_id(payload: str) -> str:
    symbols = payload + check_symbol(payload)
    return f"CL-{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


# Fixed, valid Client IDs stored before each run, so generated requests also reach records.
SEEDED_CLIENT_IDS = tuple(_client_id(payload) for payload in ("F0220000001", "F0220000002"))


def schema_only_intake_app() -> Any:
    """An app built only to read its OpenAPI document: it is never started."""
    return create_intake_app(IntakeApiSettings(environment="test"))


def schema_only_admin_app() -> Any:
    return create_admin_app(AdminApiSettings(environment="test"))


def intake_settings(data_dir: Path) -> IntakeApiSettings:
    """intake-api as deployed, minus the rate limit (it would turn a run into 429s)."""
    return IntakeApiSettings(
        environment="test",
        INTAKE_DATA_DIR=data_dir,
        rate_limit_enabled=False,
        relay_poll_interval_seconds=0.2,
        readiness_timeout_seconds=1.0,
    )


def admin_settings(data_dir: Path, issuer_key: bytes) -> AdminApiSettings:
    """admin-api trusting the dev issuer whose key is written into ``data_dir``."""
    key_path = data_dir / "dev-issuer" / "private-key.pem"
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(issuer_key)
    return AdminApiSettings(environment="test", INTAKE_DATA_DIR=data_dir)


async def seed_store(path: Path) -> None:
    """Stores the submissions behind ``SEEDED_CLIENT_IDS``, as intake-api would."""
    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        for index, client_id in enumerate(SEEDED_CLIENT_IDS):
            submission = make_submission(
                client_id=client_id, submitted_at=start + timedelta(minutes=index)
            )
            audit = AuditEntry("submission.created", "client", start, client_id)
            await store.save_new(submission, submission_created(submission), audit)
    finally:
        await store.close()


@dataclass(frozen=True)
class StaffTokens:
    """Bearer headers from the dev issuer the app trusts; signing one costs ~70 ms, so once."""

    issuer: DevIssuer

    def bearer(self, *roles: str) -> dict[str, str]:
        token = self.issuer.issue("fuzz@example.com", roles, lifetime_seconds=3600)
        return {"Authorization": f"Bearer {token}"}

    @cached_property
    def all_roles(self) -> dict[str, str]:
        return self.bearer(*ROLES)
