"""GET /v1/figures over a real SQLite store, through the in-process read cache and a real
redis-server: every day listed with zeros filled, erased records counted, the read audited; a
second read comes from the cache, and a status change or an erasure drops the cached figures at
once, while a new submission (written by intake-api, here straight into the store) shows once
the figures' TTL has passed."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admin_api.app import create_app
from admin_api.deps import AdminDeps
from admin_api.figures_cache import KEY_PREFIX
from admin_api.settings import AdminApiSettings
from intake_core.adapters.redis_cache import RedisReadCache
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES, DevIssuer, TokenVerifier
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import submission_created
from intake_core.domain.figures import SubmissionFigures
from intake_core.domain.models import ServiceType, Status, Submission
from intake_core.ports.cache import ReadCache
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from support import VALID_BODY, make_submission
from support.redis_server import RedisServer, empty_read_cache

STATUSES = [status.value for status in Status]


class CountingStore(SqliteSubmissionStore):
    """The real SQLite store, counting the figures queries that reach it."""

    figure_reads = 0

    async def submission_figures(self, first_day: date, last_day: date) -> SubmissionFigures:
        self.figure_reads += 1
        return await super().submission_figures(first_day, last_day)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def issuer_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One RSA key for the module: generating one per test costs more than the test."""
    directory = tmp_path_factory.mktemp("issuer")
    DevIssuer(directory).public_key()
    return (directory / "dev-issuer" / "private-key.pem").read_bytes()


@dataclass
class Api:
    client: TestClient
    store: CountingStore
    cache: ReadCache
    issuer: DevIssuer
    db_path: Path

    def run(self, call: Any, *args: Any) -> Any:
        assert self.client.portal is not None
        return self.client.portal.call(call, *args)

    def seed(
        self, days_ago: int = 0, service: ServiceType = ServiceType.CLOUD_MIGRATION
    ) -> Submission:
        body = copy.deepcopy(VALID_BODY)
        body["engagement"]["serviceType"] = service.value
        # A minute past midnight UTC, so "today" stays today however long the test runs.
        day = datetime.now(UTC).date() - timedelta(days=days_ago)
        moment = datetime(day.year, day.month, day.day, 0, 1, tzinfo=UTC)
        submission = make_submission(body, submitted_at=moment)
        audit = AuditEntry("submission.created", "public", moment, submission.client_id)
        self.run(self.store.save_new, submission, submission_created(submission), audit)
        return submission

    def auth(self, *roles: str, sub: str = "staff@example.com") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(sub, roles or ROLES)}"}

    def figures(self, days: int | str | None = None, sub: str = "staff@example.com") -> Any:
        params = {} if days is None else {"days": str(days)}
        return self.client.get("/v1/figures", params=params, headers=self.auth(sub=sub))

    def contact(self, client_id: str) -> None:
        changed = self.client.patch(
            f"/v1/submissions/{client_id}", json={"status": "contacted"}, headers=self.auth()
        )
        assert changed.status_code == 200, changed.text

    def erase(self, client_id: str) -> None:
        erased = self.client.post(f"/v1/submissions/{client_id}/erase", headers=self.auth())
        assert erased.status_code == 200, erased.text

    def audited(self, action: str) -> list[tuple[str, str | None, str]]:
        with sqlite3.connect(self.db_path) as connection:
            rows = connection.execute(
                "SELECT actor, client_id, details FROM audit WHERE action = ? ORDER BY seq",
                (action,),
            ).fetchall()
        return [(actor, client_id, details) for actor, client_id, details in rows]


def _api(tmp_path: Path, issuer_key: bytes, cache: ReadCache, ttl: float = 30) -> Iterator[Api]:
    key_path = tmp_path / "dev-issuer" / "private-key.pem"
    key_path.parent.mkdir(exist_ok=True)
    key_path.write_bytes(issuer_key)
    issuer = DevIssuer(tmp_path)
    settings = AdminApiSettings(
        environment="test", INTAKE_DATA_DIR=tmp_path, admin_figures_cache_seconds=ttl
    )
    store = CountingStore(settings.sqlite_path)
    verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=issuer)
    app = create_app(settings, AdminDeps(store=store, verifier=verifier, cache=cache))
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, store, cache, issuer, settings.sqlite_path)
        api.run(store.open)
        try:
            yield api
        finally:
            api.run(cache.close)
            api.run(store.close)


@pytest.fixture(params=["memory", "redis"])
def api(request: pytest.FixtureRequest, tmp_path: Path, issuer_key: bytes) -> Iterator[Api]:
    yield from _api(tmp_path, issuer_key, empty_read_cache(request.param, request))


def _day(figures: dict[str, Any], days_ago: int) -> dict[str, Any]:
    wanted = (date.fromisoformat(figures["to"]) - timedelta(days=days_ago)).isoformat()
    [day] = [day for day in figures["days"] if day["date"] == wanted]
    return day


def _service_counts(figures: dict[str, Any]) -> dict[str, int]:
    return {item["serviceType"]: item["count"] for item in figures["byServiceType"]}


def test_every_day_is_listed_with_every_status_and_the_zeros_filled(api: Api) -> None:
    kubernetes = ServiceType.KUBERNETES
    api.seed(0, kubernetes)
    api.seed(0, kubernetes)
    contacted = api.seed(2)
    api.contact(contacted.client_id)
    api.seed(6, ServiceType.SRE)
    api.seed(7)  # the day before the window of 7 days
    answer = api.figures(7)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    figures = answer.json()
    today = datetime.now(UTC).date()
    assert figures["to"] == today.isoformat()
    assert figures["from"] == (today - timedelta(days=6)).isoformat()
    assert [day["date"] for day in figures["days"]] == [
        (today - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    assert all(list(day["counts"]) == STATUSES for day in figures["days"])
    assert _day(figures, 0)["counts"] == dict.fromkeys(STATUSES, 0) | {"received": 2}
    assert _day(figures, 2)["counts"] == dict.fromkeys(STATUSES, 0) | {"contacted": 1}
    assert _day(figures, 6)["total"] == 1
    assert [day["total"] for day in figures["days"]] == [1, 0, 0, 0, 1, 0, 2]
    assert figures["total"] == 4
    by_service = figures["byServiceType"]
    assert [item["serviceType"] for item in by_service][:3] == [
        "kubernetes", "cloud-migration", "site-reliability"
    ]  # fmt: skip
    assert {item["serviceType"] for item in by_service} == {s.value for s in ServiceType}
    assert _service_counts(figures) == dict.fromkeys(_service_counts(figures), 0) | {
        "kubernetes": 2, "cloud-migration": 1, "site-reliability": 1
    }  # fmt: skip
    thirty = api.figures().json()  # the default window
    assert len(thirty["days"]) == 30 and thirty["total"] == 5


def test_erased_submissions_still_count_as_they_were(api: Api) -> None:
    erased = api.seed(1, ServiceType.DEVSECOPS)
    api.contact(erased.client_id)
    api.erase(erased.client_id)
    figures = api.figures(7).json()
    assert _day(figures, 1)["counts"]["contacted"] == 1
    assert _service_counts(figures)["devsecops"] == 1
    assert "ada@example.com" not in str(figures)


@pytest.mark.parametrize("days", ["0", "367", "-1", "abc", "1.5", ""])
def test_a_window_outside_one_to_366_days_is_422(api: Api, days: str) -> None:
    answer = api.figures(days)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["path"] == "days"
    assert api.store.figure_reads == 0


@pytest.mark.parametrize("days", [1, 366])
def test_the_window_bounds_are_accepted(api: Api, days: int) -> None:
    figures = api.figures(days).json()
    assert len(figures["days"]) == days


def test_every_read_is_audited_without_a_record_cached_or_not(api: Api) -> None:
    api.figures(7, sub="first@example.com")
    api.figures(7, sub="second@example.com")
    entries = api.audited("figures.read")
    assert [(actor, client_id) for actor, client_id, _ in entries] == [
        ("first@example.com", None), ("second@example.com", None)
    ]  # fmt: skip
    assert all('"days": "7"' in details and "requestId" in details for *_, details in entries)


def test_a_second_read_comes_from_the_cache(api: Api) -> None:
    api.seed(0)
    first, second = api.figures(), api.figures()
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert api.store.figure_reads == 1
    today = datetime.now(UTC).date()
    key = f"{KEY_PREFIX}{today - timedelta(days=29)}:{today}"
    assert b'"total":1' in (api.run(api.cache.get, key) or b"")


def test_each_window_is_cached_on_its_own(api: Api) -> None:
    api.seed(10)
    assert api.figures(7).json()["total"] == 0
    assert api.figures(30).json()["total"] == 1
    api.figures(7)
    api.figures(30)
    assert api.store.figure_reads == 2


def test_a_status_change_drops_every_cached_window(api: Api) -> None:
    submission = api.seed(0)
    api.figures(7)
    api.figures(30)
    api.contact(submission.client_id)
    for days in (7, 30):
        counts = _day(api.figures(days).json(), 0)["counts"]
        assert counts["received"] == 0 and counts["contacted"] == 1
    assert api.store.figure_reads == 4
    api.figures(7)
    assert api.store.figure_reads == 4  # cached again


def test_an_erasure_drops_the_cached_figures(api: Api) -> None:
    kept, erased = api.seed(0), api.seed(0)
    api.contact(erased.client_id)
    before = api.figures(7).json()
    api.erase(erased.client_id)
    after = api.figures(7).json()
    assert api.store.figure_reads == 2
    assert after == before  # erased records still count, under the status they had
    api.contact(kept.client_id)
    assert _day(api.figures(7).json(), 0)["counts"]["contacted"] == 2


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_new_submission_shows_once_the_ttl_has_passed(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, issuer_key: bytes
) -> None:
    """intake-api writes new submissions and cannot reach admin-api's cache: only the TTL
    bounds how long the figures miss one."""
    for api in _api(tmp_path, issuer_key, empty_read_cache(kind, request), ttl=1.0):
        assert api.figures(7).json()["total"] == 0
        api.seed(0)
        assert api.figures(7).json()["total"] == 0
        api.run(asyncio.sleep, 1.2)
        assert api.figures(7).json()["total"] == 1
        assert api.store.figure_reads == 2


def test_figures_are_answered_when_the_cache_is_down(
    tmp_path: Path, issuer_key: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with RedisServer(tmp_path_factory.mktemp("dead-redis")) as server:
        url = server.url
    for api in _api(tmp_path, issuer_key, RedisReadCache.from_url(url)):
        submission = api.seed(0)
        assert api.figures(7).json()["total"] == 1
        assert api.figures(7).status_code == 200
        assert api.store.figure_reads == 2
        api.contact(submission.client_id)  # a change still succeeds
        assert _day(api.figures(7).json(), 0)["counts"]["contacted"] == 1
