"""GET /v1/submissions/{clientId} through the read cache, over the in-process cache and a real
redis-server: hits are still audited, status changes and erasures drop the copy at once, an
erased record is never served from the cache, and a cache that is down never fails a read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admin_api import erasure
from admin_api.app import create_app
from admin_api.audit_log import StaffRequest
from admin_api.context import AdminContext
from admin_api.deps import AdminDeps
from admin_api.figures_cache import FiguresCache
from admin_api.paging import PageTokens
from admin_api.record_cache import RecordCache
from admin_api.settings import AdminApiSettings
from intake_core.adapters.redis_cache import RedisReadCache
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES, DevIssuer, TokenVerifier
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import new_client_id
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission, SubmissionCreate
from intake_core.erasure import cached_record_keys
from intake_core.ports.cache import ReadCache
from intake_core.ports.staff import StoredRecord
from intake_core.ports.store import StoreUnavailable
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from support.pii import fragments_in
from support.redis_server import LIVE_REDIS_TIMEOUT_SECONDS, RedisServer, empty_read_cache

PII = ("Contoso", "Ada", "ada@example.com", "Lovelace", "7946", "Main St", "SW1A", "AKS")


def _create() -> SubmissionCreate:
    return SubmissionCreate.model_validate(
        {
            "company": {
                "name": "Contoso Ltd",
                "industry": "technology",
                "size": 250,
                "address": {"line1": "1 Main St", "city": "London", "postalCode": "SW1A 1AA",
                            "country": "GB"},
                "contact": {"name": "Ada Lovelace", "email": "ada@example.com",
                            "phone": "+44 20 7946 0958"},
            },
            "engagement": {"serviceType": "cloud-migration", "scope": "Move 40 services to AKS",
                           "timeline": "3-6-months", "budgetRange": "100k-250k"},
            "consent": {"accepted": True, "privacyNoticeVersion": "2026-01"},
        }
    )  # fmt: skip


class CountingStore(SqliteSubmissionStore):
    """The real SQLite store, counting the record reads that reach it; its audit writes can
    be made to fail as when the database is locked by another process."""

    record_reads = 0
    audit_down = False

    async def get_record(self, client_id: str) -> StoredRecord | None:
        self.record_reads += 1
        return await super().get_record(client_id)

    async def append_audit(self, entry: AuditEntry) -> None:
        if self.audit_down:
            raise StoreUnavailable("database is locked")
        await super().append_audit(entry)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@dataclass
class Api:
    client: TestClient
    store: CountingStore
    cache: ReadCache
    issuer: DevIssuer

    def run(self, call: Any, *args: Any) -> Any:
        assert self.client.portal is not None
        return self.client.portal.call(call, *args)

    def seed(self) -> Submission:
        create = _create()
        submission = Submission(
            client_id=new_client_id(),
            submitted_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
            company=create.company,
            engagement=create.engagement,
            consent=create.consent,
        )
        audit = AuditEntry("submission.created", "public", submission.submitted_at,
                           submission.client_id)  # fmt: skip
        self.run(self.store.save_new, submission, submission_created(submission), audit)
        return submission

    def auth(self, sub: str = "staff@example.com") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(sub, ROLES)}"}

    def get(self, client_id: str, sub: str = "staff@example.com") -> Any:
        return self.client.get(f"/v1/submissions/{client_id}", headers=self.auth(sub))

    def reads_audited(self, client_id: str) -> list[str]:
        trail = self.run(self.store.audit_trail, client_id)
        return [entry.actor for entry in trail if entry.action == "submission.read"]


def _api(tmp_path: Path, issuer_key: bytes, cache: ReadCache, ttl: float = 60) -> Iterator[Api]:
    key_path = tmp_path / "dev-issuer" / "private-key.pem"
    key_path.parent.mkdir(exist_ok=True)
    key_path.write_bytes(issuer_key)
    issuer = DevIssuer(tmp_path)
    settings = AdminApiSettings(environment="test", INTAKE_DATA_DIR=tmp_path, cache_ttl_seconds=ttl)
    store = CountingStore(settings.sqlite_path)
    verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=issuer)
    app = create_app(settings, AdminDeps(store=store, verifier=verifier, cache=cache))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, store, cache, issuer)
        api.run(store.open)
        try:
            yield api
        finally:
            api.run(cache.close)
            api.run(store.close)


@pytest.fixture(params=["memory", "redis"])
def api(request: pytest.FixtureRequest, tmp_path: Path, issuer_key: bytes) -> Iterator[Api]:
    yield from _api(tmp_path, issuer_key, empty_read_cache(request.param, request))


def test_a_second_read_comes_from_the_cache_identical_and_still_audited(api: Api) -> None:
    client_id = api.seed().client_id
    first = api.get(client_id, sub="first@example.com")
    second = api.get(client_id, sub="second@example.com")
    assert first.status_code == second.status_code == 200
    assert api.store.record_reads == 1
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"] == '"1"'
    assert second.headers["content-type"] == "application/json"
    assert second.json()["company"]["contact"]["email"] == "ada@example.com"
    assert api.reads_audited(client_id) == ["first@example.com", "second@example.com"]


def test_a_hit_is_not_served_when_the_audit_cannot_be_written(api: Api) -> None:
    client_id = api.seed().client_id
    assert api.get(client_id).status_code == 200
    api.store.audit_down = True
    answer = api.get(client_id)
    assert answer.status_code == 503
    assert "ada@example.com" not in answer.text
    assert api.store.record_reads == 1  # it was a hit, refused for want of an audit entry


def test_a_status_change_drops_the_copy(api: Api) -> None:
    client_id = api.seed().client_id
    assert api.get(client_id).json()["status"] == "received"
    changed = api.client.patch(
        f"/v1/submissions/{client_id}", json={"status": "contacted"},
        headers={**api.auth(), "If-Match": '"1"'},
    )  # fmt: skip
    assert changed.status_code == 200
    fresh = api.get(client_id)
    assert fresh.json()["status"] == "contacted"
    assert fresh.headers["etag"] == changed.headers["etag"] == '"2"'
    assert api.store.record_reads == 3  # GET, PATCH's read, GET after the change
    assert api.get(client_id).json()["status"] == "contacted"
    assert api.store.record_reads == 3


def test_read_erase_read_gives_the_tombstone_and_no_personal_data_stays_cached(
    api: Api,
) -> None:
    client_id = api.seed().client_id
    assert api.get(client_id).json()["company"]["name"] == "Contoso Ltd"
    erased = api.client.post(f"/v1/submissions/{client_id}/erase", headers=api.auth())
    assert erased.status_code == 200
    for _ in range(2):  # the tombstone from the store, then from the cache
        after = api.get(client_id)
        assert after.status_code == 200
        assert after.json()["erasedAt"] and "company" not in after.json()
        assert fragments_in(after.text, PII) == []
    _, record_key = cached_record_keys(client_id)
    cached = api.run(api.cache.get, record_key) or b""
    assert fragments_in(cached.decode(), PII) == []
    assert len(api.reads_audited(client_id)) == 3


def test_an_unknown_record_is_404_every_time_and_not_remembered(api: Api) -> None:
    client_id = new_client_id()
    assert api.get(client_id).status_code == 404
    assert api.get(client_id).status_code == 404
    assert api.store.record_reads == 2


def test_a_read_racing_an_erasure_never_serves_the_erased_record(api: Api, tmp_path: Path) -> None:
    """Reader A loads the record; the erasure commits and drops the copy; reader B reads the
    tombstone (and caches it); only then does A write the old record into the cache. The
    next read must still get the tombstone."""
    client_id = api.seed().client_id
    records = RecordCache(api.cache, ttl_seconds=60)
    context = AdminContext(
        store=api.store,
        cache=api.cache,
        records=records,
        figures=FiguresCache(api.cache, ttl_seconds=60),
        page_tokens=PageTokens(b"unused: an erasure signs no page tokens"),
        queue=None,
    )
    staff = StaffRequest("dpo@example.com", "race")

    async def load_then_erase(wanted: str) -> StoredRecord | None:
        before = await api.store.get_record(wanted)
        await erasure.erase_submission(context, wanted, staff)
        reader_b = await records.read(wanted, api.store.get_record)
        assert reader_b is not None and b"erasedAt" in reader_b.body
        return before

    async def race() -> None:
        raced = await records.read(client_id, load_then_erase)
        assert raced is not None and b"ada@example.com" in raced.body
        after = await records.read(client_id, api.store.get_record)
        assert after is not None and b"erasedAt" in after.body
        assert b"ada@example.com" not in after.body

    api.run(race)
    served = api.get(client_id)
    assert "ada@example.com" not in served.text and served.json()["erasedAt"]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_copy_lives_no_longer_than_the_ttl(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, issuer_key: bytes
) -> None:
    for api in _api(tmp_path, issuer_key, empty_read_cache(kind, request), ttl=1.0):
        client_id = api.seed().client_id
        api.get(client_id)
        api.get(client_id)
        assert api.store.record_reads == 1
        api.run(asyncio.sleep, 1.2)
        api.get(client_id)
        assert api.store.record_reads == 2


@pytest.fixture
def api_with_dead_cache(
    tmp_path: Path, issuer_key: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    with RedisServer(tmp_path_factory.mktemp("dead-redis")) as server:
        url = server.url
    yield from _api(tmp_path, issuer_key, RedisReadCache.from_url(url))


def test_reads_and_status_changes_work_when_the_cache_is_down(api_with_dead_cache: Api) -> None:
    api = api_with_dead_cache
    client_id = api.seed().client_id
    for _ in range(2):
        answer = api.get(client_id)
        assert answer.status_code == 200 and answer.json()["clientId"] == client_id
    assert api.store.record_reads == 2
    assert len(api.reads_audited(client_id)) == 2
    changed = api.client.patch(
        f"/v1/submissions/{client_id}", json={"status": "contacted"}, headers=api.auth()
    )
    assert changed.status_code == 200


def test_an_erasure_the_cache_cannot_confirm_is_503_and_erasing_again_finishes(
    tmp_path: Path, issuer_key: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with RedisServer(tmp_path_factory.mktemp("flaky-redis")) as server:
        for api in _api(
            tmp_path, issuer_key, RedisReadCache.from_url(server.url, LIVE_REDIS_TIMEOUT_SECONDS)
        ):
            client_id = api.seed().client_id
            assert api.get(client_id).status_code == 200
            port = server.port
            server.stop()
            failed = api.client.post(f"/v1/submissions/{client_id}/erase", headers=api.auth())
            assert failed.status_code == 503
            assert failed.headers["retry-after"]
            assert failed.headers["content-type"] == "application/problem+json"
            assert server.password not in failed.text and str(port) not in failed.text
            stored = api.run(api.store.get_record, client_id)
            assert stored is not None and stored.erased  # the store has it already
            api.run(asyncio.to_thread, _restart_on, server, port)
            again = api.client.post(f"/v1/submissions/{client_id}/erase", headers=api.auth())
            assert again.status_code == 200
            assert "ada@example.com" not in api.get(client_id).text


def _restart_on(server: RedisServer, port: int) -> None:
    """The same server back on the same port (its memory is empty, as after a failover)."""
    import subprocess

    from support.redis_server import redis_binary

    server._process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--requirepass",
         server.password, "--save", "", "--appendonly", "no", "--dir", str(server.folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server.port = port
    assert server._wait_ready()
