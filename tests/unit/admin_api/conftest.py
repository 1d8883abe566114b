"""A real admin-api over a real SQLite store in tmp_path, with real tokens from the dev issuer."""

from __future__ import annotations

import contextlib
import copy
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from admin_api.app import create_app
from admin_api.deps import AdminDeps
from admin_api.settings import AdminApiSettings
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES, DevIssuer, TokenVerifier
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission, SubmissionCreate
from intake_core.ports.intake import Idempotency
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from support import VALID_BODY

T = TypeVar("T")
BASE_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def valid_body(**company: Any) -> dict[str, Any]:
    body = copy.deepcopy(VALID_BODY)
    body["company"].update(company)
    return body


@dataclass
class Harness:
    client: TestClient
    store: SqliteSubmissionStore
    queue: LocalQueue
    issuer: DevIssuer
    db_path: Path

    def run(self, call: Callable[..., Awaitable[T]], *args: Any) -> T:
        assert self.client.portal is not None
        return self.client.portal.call(call, *args)

    def seed(
        self,
        *,
        name: str = "Contoso Ltd",
        contact_name: str = "Ada Lovelace",
        email: str = "ada@example.com",
        industry: str = "technology",
        service_type: str = "cloud-migration",
        notes: str | None = None,
        submitted_at: datetime = BASE_TIME,
        idempotency_key: str | None = None,
    ) -> Submission:
        body = valid_body(name=name, industry=industry)
        body["company"]["contact"].update(name=contact_name, email=email)
        body["engagement"]["serviceType"] = service_type
        if notes is not None:
            body["engagement"]["notes"] = notes
        create = SubmissionCreate.model_validate(body)
        submission = Submission(
            client_id=new_client_id(),
            submitted_at=submitted_at,
            company=create.company,
            engagement=create.engagement,
            consent=create.consent,
        )
        audit = AuditEntry("submission.created", "public", submitted_at, submission.client_id)
        idempotency = (
            Idempotency(idempotency_key, create.fingerprint()) if idempotency_key else None
        )
        self.run(
            self.store.save_new, submission, submission_created(submission), audit, idempotency
        )
        return submission

    def token(
        self, *roles: str, sub: str = "staff@example.com", lifetime: int = 3600, **kwargs: Any
    ) -> str:
        return self.issuer.issue(sub, roles, lifetime_seconds=lifetime, **kwargs)

    def auth(self, *roles: str, sub: str = "staff@example.com") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles, sub=sub)}"}

    def all_roles(self, sub: str = "staff@example.com") -> dict[str, str]:
        return self.auth(*ROLES, sub=sub)

    @contextlib.contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        """The store's SQLite file, read directly (what is really kept, not what the API says)."""
        connection = sqlite3.connect(self.db_path)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()


@pytest.fixture
def settings(tmp_path: Path) -> AdminApiSettings:
    return AdminApiSettings(environment="test", INTAKE_DATA_DIR=tmp_path)


@pytest.fixture(scope="session")
def issuer_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One RSA key for the whole run: generating one per test costs more than the test."""
    directory = tmp_path_factory.mktemp("issuer")
    DevIssuer(directory).public_key()
    return (directory / "dev-issuer" / "private-key.pem").read_bytes()


@pytest.fixture
def harness(tmp_path: Path, settings: AdminApiSettings, issuer_key: bytes) -> Iterator[Harness]:
    key_path = tmp_path / "dev-issuer" / "private-key.pem"
    key_path.parent.mkdir()
    key_path.write_bytes(issuer_key)
    issuer = DevIssuer(tmp_path)
    store = SqliteSubmissionStore(settings.sqlite_path)
    queue = LocalQueue(settings.queue_path, lock_seconds=0.2, max_delivery_count=2)
    verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=issuer)
    app = create_app(settings, AdminDeps(store=store, verifier=verifier, queue=queue))
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = Harness(client, store, queue, issuer, settings.sqlite_path)
        harness.run(store.open)
        harness.run(queue.open)
        try:
            yield harness
        finally:
            harness.run(queue.close)
            harness.run(store.close)


@pytest.fixture
def seed_many(harness: Harness) -> Callable[[int], list[Submission]]:
    def seed(count: int) -> list[Submission]:
        return [
            harness.seed(
                name=f"Company {index:03d}",
                email=f"person{index}@example.com",
                submitted_at=BASE_TIME + timedelta(minutes=index),
            )
            for index in range(count)
        ]

    return seed
