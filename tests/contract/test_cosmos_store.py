"""What the Cosmos DB store does beyond the shared contract: optimistic outbox claims, SDK
continuation tokens, figures counted over many pages, errors after the SDK's retries, the
idempotency crash window, the per-partition audit chains, and how settings pick it."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from azure.cosmos.aio import ContainerProxy, CosmosClient

from intake_core.adapters import cosmos_store
from intake_core.adapters.cosmos_documents import idempotency_document, key_hash
from intake_core.adapters.cosmos_store import CosmosSubmissionStore
from intake_core.bootstrap import open_store
from intake_core.domain.audit import AuditEntry
from intake_core.domain.events import submission_created
from intake_core.domain.models import Industry, ServiceType, Status
from intake_core.ports.intake import Idempotency
from intake_core.ports.lifetimes import IDEMPOTENCY_KEY_TTL_SECONDS, LEDGER_TTL_SECONDS
from intake_core.ports.staff import SearchQuery
from intake_core.ports.store import StoreUnavailable
from intake_core.settings import CommonSettings
from support import make_submission
from support.cosmos_server import CosmosTarget, drop_database

StoreFactory = Callable[[], Awaitable[CosmosSubmissionStore]]
# The fakes below accept any key, but the SDK wants one in base64.
ANY_KEY = base64.b64encode(b"any key: the fakes do not check it").decode()


@pytest.fixture
async def database(cosmos_target: CosmosTarget) -> AsyncIterator[str]:
    """A fresh database, dropped afterwards."""
    name = cosmos_target.database_name()
    yield name
    await drop_database(cosmos_target, name)


@pytest.fixture
async def open_cosmos(cosmos_target: CosmosTarget, database: str) -> AsyncIterator[StoreFactory]:
    """Opens stores on one database: each is a separate client, like separate replicas."""
    opened: list[CosmosSubmissionStore] = []

    async def open_one() -> CosmosSubmissionStore:
        store = CosmosSubmissionStore(
            cosmos_target.endpoint, database, key=cosmos_target.key, provision=True
        )
        await store.open()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def cosmos(open_cosmos: StoreFactory) -> CosmosSubmissionStore:
    return await open_cosmos()


@pytest.fixture
async def raw(
    cosmos_target: CosmosTarget, database: str, cosmos: CosmosSubmissionStore
) -> AsyncIterator[Callable[[str], ContainerProxy]]:
    """The store's containers reached around the store: to crash half way, or to tamper."""
    async with CosmosClient(cosmos_target.endpoint, credential=cosmos_target.key) as client:
        yield client.get_database_client(database).get_container_client


async def save(store: CosmosSubmissionStore, **changes: Any) -> str:
    submission = make_submission(**changes)
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, submission_created(submission), audit)
    return submission.client_id


async def test_provisioned_containers_get_the_default_ttls_of_the_bicep(
    cosmos: CosmosSubmissionStore, raw: Callable[[str], ContainerProxy]
) -> None:
    """So on an emulator too a published event, an idempotency key and a ledger entry expire
    (tests/infra_bicep checks these numbers against the Bicep). The npm test server keeps the
    setting and reports it back but expires nothing: this checks what the adapter asks for."""
    ttls = {name: (await raw(name).read()).get("defaultTtl") for name in cosmos_store.CONTAINERS}

    assert ttls == {
        "submissions": -1,  # on, with no default: only items with their own ttl expire
        "idempotency": IDEMPOTENCY_KEY_TTL_SECONDS,
        "ledger": LEDGER_TTL_SECONDS,
    }


async def test_of_two_relays_racing_for_one_event_only_one_wins_it(
    open_cosmos: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay_a, relay_b = await open_cosmos(), await open_cosmos()
    for _ in range(3):
        await save(relay_a)
    outbox_b = relay_b._outbox
    replace = outbox_b._replace_if_unchanged
    won_by_a: list[str] = []

    async def after_a_claims(document: dict[str, Any], replacement: dict[str, Any]) -> bool:
        # Relay B has read the events; relay A leases them all before B writes its leases.
        if not won_by_a:
            won_by_a.extend(i.event.id for i in await relay_a.claim_outbox("a", 10, 60))
        return await replace(document, replacement)

    monkeypatch.setattr(outbox_b, "_replace_if_unchanged", after_a_claims)
    assert await relay_b.claim_outbox("b", limit=10, lease_seconds=60) == []  # every etag stale
    assert len(won_by_a) == 3


async def test_concurrent_relays_on_separate_clients_share_the_events(
    open_cosmos: StoreFactory,
) -> None:
    relays = [await open_cosmos() for _ in range(3)]
    for _ in range(12):
        await save(relays[0])
    batches = await asyncio.gather(
        *(relay.claim_outbox(f"relay-{n}", limit=12, lease_seconds=60) for n, relay in enumerate(relays))
    )  # fmt: skip
    items = [item for batch in batches for item in batch]
    assert len({item.event.id for item in items}) == len(items) == 12
    assert {item.attempts for item in items} == {1}  # no event was leased twice


async def test_search_pages_sixty_records_with_continuation_tokens(
    cosmos: CosmosSubmissionStore,
) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    saved = [await save(cosmos, submitted_at=start + timedelta(minutes=n)) for n in range(60)]
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = await cosmos.search(SearchQuery(limit=7, continuation_token=token))
        assert len(page.items) <= 7
        seen.extend(item.client_id for item in page.items)
        pages += 1
        token = page.continuation_token
        if token is None:
            break
        assert token.isascii()
    assert seen == list(reversed(saved))
    assert pages in {9, 10}  # 60 / 7, plus at most one empty last page

    window = SearchQuery(
        submitted_from=start + timedelta(minutes=10),
        submitted_to=start + timedelta(minutes=29),
        industry=Industry.TECHNOLOGY,
        limit=15,
    )
    first = await cosmos.search(window)
    assert first.continuation_token is not None
    rest = await cosmos.search(replace(window, continuation_token=first.continuation_token))
    assert [i.client_id for i in first.items + rest.items] == list(reversed(saved[10:30]))


async def test_figures_are_counted_across_many_pages_of_the_projection(
    cosmos: CosmosSubmissionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cosmos_store, "FIGURES_PAGE_SIZE", 4)
    start = datetime(2026, 3, 1, 22, tzinfo=UTC)
    for n in range(25):  # every three hours: 1 March has 1 record, then 8 a day
        await save(cosmos, submitted_at=start + timedelta(hours=3 * n))
    last = (start + timedelta(hours=3 * 24)).date()
    figures = await cosmos.submission_figures(start.date(), last)
    per_day = {day: sum(counts.values()) for day, counts in figures.per_day().items()}
    assert per_day == {
        start.date() + timedelta(days=n): count for n, count in enumerate([1, 8, 8, 8])
    }
    assert figures.per_service_type() == {ServiceType.CLOUD_MIGRATION: 25}
    assert {status for _, status, _ in figures.counts} == {Status.RECEIVED}


@pytest.mark.parametrize(
    "token",
    ["!!!", "not base64 at all", base64.urlsafe_b64encode(b"garbage").decode(),
     base64.urlsafe_b64encode(b'{"token": 5, "range": []}').decode(),
     base64.urlsafe_b64encode(b'{"cosmos": 5}').decode(), base64.urlsafe_b64encode(b'[]').decode(),
     base64.urlsafe_b64encode(b"\xff\xfe").decode(), "\u00e9t\u00e9"],
)  # fmt: skip
async def test_a_token_that_is_not_ours_is_a_value_error(
    cosmos: CosmosSubmissionStore, token: str
) -> None:
    await save(cosmos)
    with pytest.raises(ValueError, match="continuationToken is not valid"):
        await cosmos.search(SearchQuery(continuation_token=token))


async def test_a_writer_that_stopped_after_reserving_its_key_is_completed_by_the_retry(
    cosmos: CosmosSubmissionStore, raw: Callable[[str], ContainerProxy]
) -> None:
    key = Idempotency("crash-key", "fingerprint")
    crashed = make_submission()
    # The first writer reserved the key, then died before its batch.
    await raw("idempotency").create_item(idempotency_document(key, crashed))
    assert await cosmos.get(crashed.client_id) is None

    retry = make_submission()
    audit = AuditEntry("submission.created", "client", retry.submitted_at, retry.client_id)
    result = await cosmos.save_new(retry, submission_created(retry), audit, key)
    assert result.created and result.client_id == crashed.client_id
    stored = await cosmos.get(crashed.client_id)
    assert stored is not None and stored.submitted_at == crashed.submitted_at
    assert await cosmos.get(retry.client_id) is None
    [claimed] = await cosmos.claim_outbox("relay", limit=10, lease_seconds=60)
    assert claimed.event.subject == crashed.client_id
    assert claimed.event.data["clientId"] == crashed.client_id
    assert [e.client_id for e in await cosmos.audit_trail(crashed.client_id)] == [crashed.client_id]

    again = await cosmos.save_new(retry, submission_created(retry), audit, key)
    assert not again.created and again.client_id == crashed.client_id


async def test_a_reserved_client_id_held_by_another_record_is_given_up(
    cosmos: CosmosSubmissionStore, raw: Callable[[str], ContainerProxy]
) -> None:
    other = await save(cosmos)
    key = Idempotency("collision-key", "fingerprint")
    await raw("idempotency").create_item(
        idempotency_document(key, make_submission(client_id=other))
    )
    mine = make_submission()
    audit = AuditEntry("submission.created", "client", mine.submitted_at, mine.client_id)
    result = await cosmos.save_new(mine, submission_created(mine), audit, key)
    assert result.created and result.client_id == mine.client_id
    reservation = await raw("idempotency").read_item(
        key_hash(key.key), partition_key=key_hash(key.key)
    )
    assert reservation["clientId"] == mine.client_id


async def test_erasure_removes_the_idempotency_record_and_every_event(
    cosmos: CosmosSubmissionStore, raw: Callable[[str], ContainerProxy]
) -> None:
    submission = make_submission()
    key = Idempotency("erase-key", "fingerprint")
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await cosmos.save_new(submission, submission_created(submission), audit, key)
    await cosmos.erase(
        submission.client_id,
        AuditEntry("submission.erase", "staff", datetime.now(UTC), submission.client_id),
    )
    assert (await cosmos.outbox_stats()).backlog == 0
    assert [d async for d in raw("idempotency").query_items("SELECT * FROM c")] == []
    report = await cosmos.verify_audit_chain()
    assert report.intact and report.entries == 2


async def test_a_changed_or_removed_audit_entry_breaks_its_chain(
    cosmos: CosmosSubmissionStore, raw: Callable[[str], ContainerProxy]
) -> None:
    submissions = raw("submissions")
    client_id = await save(cosmos)
    for action in ("submission.read", "submission.export"):
        await cosmos.append_audit(AuditEntry(action, "staff", datetime.now(UTC), client_id))
    intact = await cosmos.verify_audit_chain()
    assert intact.intact and intact.entries == 3

    entry = await submissions.read_item("audit-000000000002", partition_key=client_id)
    entry["entry"]["actor"] = "someone-else"
    await submissions.replace_item(entry["id"], entry)
    changed = await cosmos.verify_audit_chain()
    assert not changed.intact and changed.broken_at == 2
    assert changed.problem is not None and "changed" in changed.problem

    await submissions.delete_item("audit-000000000002", partition_key=client_id)
    await submissions.delete_item("audit-000000000003", partition_key=client_id)
    truncated = await cosmos.verify_audit_chain()
    assert not truncated.intact and truncated.broken_at == 2
    assert truncated.problem is not None and "missing" in truncated.problem


async def test_a_failed_batch_writes_nothing(
    cosmos: CosmosSubmissionStore,
    raw: Callable[[str], ContainerProxy],
    cosmos_target: CosmosTarget,
) -> None:
    if cosmos_target.is_test_server:
        pytest.skip(
            "@vercel/cosmosdb-server applies a batch's operations one by one (not atomic);"
            " set COSMOS_TEST_ENDPOINT to the official emulator or an account to run this"
        )
    submission = make_submission()
    event = submission_created(submission)
    # The event id is taken in the record's partition: the batch's second operation fails.
    await raw("submissions").create_item({"id": event.id, "clientId": submission.client_id})
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    with pytest.raises(StoreUnavailable):
        await cosmos.save_new(submission, event, audit)
    assert await cosmos.get(submission.client_id) is None
    assert await cosmos.audit_trail(submission.client_id) == []


# -- errors after the SDK's retries -----------------------------------------------------------


WRITES = ("create_item", "upsert_item", "replace_item", "patch_item", "delete_item",
          "execute_item_batch")  # fmt: skip


async def test_a_submission_its_event_and_its_audit_entry_are_one_batch(
    cosmos: CosmosSubmissionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No dual write: the record, its outbox event and its first audit entry go to the
    submissions container in one transactional batch. The test server does not apply a batch
    atomically (see the test below), so this records what the adapter sends instead: each
    write through the SDK's container, by container and method."""
    writes: list[tuple[str, str, Any]] = []

    def recorded(method: str) -> Any:
        original = getattr(ContainerProxy, method)

        async def record(self: ContainerProxy, *args: Any, **kwargs: Any) -> Any:
            writes.append((self.id, method, args[0] if args else kwargs))
            return await original(self, *args, **kwargs)

        return record

    for method in WRITES:
        monkeypatch.setattr(ContainerProxy, method, recorded(method))
    submission = make_submission()
    audit = AuditEntry("submission.created", "client", submission.submitted_at, "")
    key = Idempotency("key-1", "fingerprint")
    saved = await cosmos.save_new(submission, submission_created(submission), audit, key)

    assert saved is not None and saved.created
    on_submissions = [(method, body) for container, method, body in writes
                      if container == "submissions"]  # fmt: skip
    [(method, operations)] = on_submissions
    assert method == "execute_item_batch"
    kinds = sorted(document.get("type", "") for _, (document, *_) in operations)
    assert kinds == ["audit", "auditHead", "outbox", "submission"], operations  # head: the chain
    assert {document["clientId"] for _, (document, *_) in operations} == {saved.client_id}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def throttling_cosmos() -> AsyncIterator[tuple[str, list[str]]]:
    """An endpoint that describes itself as an account, then answers every request 429."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/"
    requests: list[str] = []

    async def account(_: web.Request) -> web.Response:
        location = [{"name": "Local", "databaseAccountEndpoint": endpoint}]
        return web.json_response(
            {"id": "throttled", "_rid": "throttled", "_self": "", "writableLocations": location,
             "readableLocations": location, "enableMultipleWriteLocations": False,
             "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"}}
        )  # fmt: skip

    async def throttled(request: web.Request) -> web.Response:
        requests.append(request.path)
        return web.json_response(
            {"code": "TooManyRequests", "message": "Request rate is large (secret internals)"},
            status=429,
            headers={"x-ms-retry-after-ms": "1", "x-ms-substatus": "3200"},
        )

    app = web.Application()
    app.router.add_get("/", account)
    app.router.add_route("*", "/{tail:.+}", throttled)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield endpoint, requests
    await runner.cleanup()


async def test_throttling_that_outlasts_the_sdk_retries_is_store_unavailable(
    throttling_cosmos: tuple[str, list[str]],
) -> None:
    endpoint, requests = throttling_cosmos
    store = CosmosSubmissionStore(endpoint, "intake", key=ANY_KEY)
    await store.open()
    try:
        for call in (
            store.ping(),
            store.get("CL-0000-0000-001Y"),
            store.search(SearchQuery()),
            store.save_new(*_new_submission()),
        ):
            with pytest.raises(StoreUnavailable) as raised:
                await call
            assert "secret internals" not in str(raised.value)
            assert "Request rate" not in str(raised.value)
    finally:
        await store.close()
    assert len(requests) > 4  # the SDK retried the 429s before giving up


async def test_an_unreachable_account_is_store_unavailable() -> None:
    store = CosmosSubmissionStore(f"https://127.0.0.1:{free_port()}/", key=ANY_KEY)
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(StoreUnavailable):
        await store.ping()  # never opened: refuses clearly, no AttributeError


def _new_submission() -> tuple[Any, ...]:
    submission = make_submission()
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    return submission, submission_created(submission), audit


# -- choosing the adapter ---------------------------------------------------------------------


async def test_store_cosmos_settings_open_the_cosmos_adapter(
    cosmos_target: CosmosTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = cosmos_target.database_name()
    monkeypatch.setenv("STORE", "cosmos")
    monkeypatch.setenv("COSMOS_ENDPOINT", cosmos_target.endpoint)
    monkeypatch.setenv("COSMOS_DATABASE", database)
    monkeypatch.setenv("COSMOS_KEY", cosmos_target.key)
    store = await open_store(CommonSettings())
    try:
        assert isinstance(store, CosmosSubmissionStore)
        await store.ping()
        assert (await store.outbox_stats()).backlog == 0
    finally:
        await store.close()
        await drop_database(cosmos_target, database)


def test_store_cosmos_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE", "cosmos")
    monkeypatch.delenv("COSMOS_ENDPOINT", raising=False)
    with pytest.raises(ValueError, match="COSMOS_ENDPOINT"):
        CommonSettings()
