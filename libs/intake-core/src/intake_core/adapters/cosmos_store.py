"""The submission store on Azure Cosmos DB for NoSQL (``azure-cosmos`` aio).

One ``CosmosClient`` per process, opened in :meth:`open` and closed with its credential in
:meth:`close`: ``DefaultAzureCredential`` (workload identity) in Azure, a key for emulators only.
Containers (as in ``infra/bicep/modules/cosmos.bicep``): ``submissions`` (``/clientId``: each
record with its outbox events and audit chain, see :mod:`cosmos_documents`), ``idempotency``
(``/key``) and ``ledger`` (``/eventId``). ``provision=True`` creates them if missing, with the
Bicep's default TTLs, for an emulator; in Azure they come from Bicep and the data-plane role
cannot create them. A container that already exists is left as it is, TTL included.

Saving: submission, outbox event and audit entry are one transactional batch in the record's
partition. An Idempotency-Key lives in another container, so it cannot join that batch: its
record is created first (a 409 means the key was used: compare fingerprints), then the batch.
The record reserves its Client ID. If a writer stops between the two (a crash, a timeout), the
record points at a Client ID with no submission: the next request with that key writes the
submission under the reserved ID, and whichever of that request and a late first writer commits
second gets a 409 on the reserved ID, sees the key on the stored record and answers with it.
Either way one record and one event exist. A reserved ID that a foreign record holds (a true
Client ID collision) makes the writer drop the reservation and draw another ID.

The outbox (:mod:`cosmos_outbox`) and the audit chains (:mod:`cosmos_audit`) have their own
modules; every write that races another uses the etag (``If-Match``), never a lock.

Errors: the SDK's retry policy stays in charge (429s, connection errors); what still fails after
it becomes :class:`StoreUnavailable`, never an SDK message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from azure.core import MatchConditions
from azure.cosmos import PartitionKey
from azure.cosmos.aio import ContainerProxy, CosmosClient, DatabaseProxy
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosBatchOperationError,
    CosmosHttpResponseError,
    CosmosResourceExistsError,
    CosmosResourceNotFoundError,
)
from azure.identity.aio import DefaultAzureCredential

from intake_core.adapters import cosmos_queries as queries
from intake_core.adapters.cosmos_audit import AuditChains
from intake_core.adapters.cosmos_documents import (
    OUTBOX,
    SUBMISSION,
    TOMBSTONE,
    audit_partition,
    idempotency_document,
    is_document_id,
    key_hash,
    outbox_document,
    read_record,
    read_submission,
    stored,
    submission_document,
    tombstone_document,
)
from intake_core.adapters.cosmos_errors import (
    MAX_ATTEMPTS,
    batch_failure,
    contention_pause,
    failed_operation,
    translated,
)
from intake_core.adapters.cosmos_outbox import CosmosOutbox
from intake_core.domain.audit import AuditAction, AuditChainReport, AuditEntry
from intake_core.domain.erasure import RecordedErasure
from intake_core.domain.events import CloudEvent, submission_created
from intake_core.domain.figures import SubmissionFigures
from intake_core.domain.models import ServiceType, Status, Submission
from intake_core.domain.utc import utc_days, utc_text
from intake_core.ports.intake import ClientIdTaken, Idempotency, IdempotencyConflict, SaveResult
from intake_core.ports.lifetimes import IDEMPOTENCY_KEY_TTL_SECONDS, LEDGER_TTL_SECONDS
from intake_core.ports.outbox import OutboxItem, OutboxStats, PurgedItems
from intake_core.ports.staff import (
    HitPage,
    SearchHit,
    SearchQuery,
    StoredRecord,
    SubmissionNotFound,
    VersionConflict,
)
from intake_core.ports.store import SearchPage, StoreUnavailable


@dataclasses.dataclass(frozen=True)
class ContainerShape:
    """What ``provision=True`` creates a container with, as the Bicep does.

    ``default_ttl`` -1 turns TTL on with no default: only an item with its own ``ttl`` expires
    (a published outbox event). A number of seconds expires every item that long after its last
    write; a key or a ledger entry is written once.
    """

    partition_key: str
    default_ttl: int


CONTAINERS = {
    "submissions": ContainerShape("/clientId", default_ttl=-1),
    "idempotency": ContainerShape("/key", default_ttl=IDEMPOTENCY_KEY_TTL_SECONDS),
    "ledger": ContainerShape("/eventId", default_ttl=LEDGER_TTL_SECONDS),
}
# Rows per page of the figures query: each is three short strings, counted and dropped.
FIGURES_PAGE_SIZE = 1000


class CosmosSubmissionStore:
    def __init__(
        self,
        endpoint: str,
        database: str = "intake",
        *,
        key: str | None = None,
        provision: bool = False,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._database_name = database
        self._key = key
        self._provision = provision
        self._client_options = dict(client_options or {})
        self._client: CosmosClient | None = None
        self._credential: DefaultAzureCredential | None = None
        self._containers: dict[str, ContainerProxy] = {}
        self._outbox_documents: CosmosOutbox | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        if self._key is None:
            self._credential = DefaultAzureCredential()
        credential: Any = self._key if self._key is not None else self._credential
        self._client = CosmosClient(self._endpoint, credential=credential, **self._client_options)
        try:
            with translated():
                await self._client.__aenter__()
                database = await self._database(self._client)
                for name, shape in CONTAINERS.items():
                    self._containers[name] = await self._container(database, name, shape)
            self._outbox_documents = CosmosOutbox(self._submissions)
        except BaseException:
            await self.close()
            raise

    async def _database(self, client: CosmosClient) -> DatabaseProxy:
        if self._provision:
            return await client.create_database_if_not_exists(self._database_name)
        return client.get_database_client(self._database_name)

    async def _container(
        self, database: DatabaseProxy, name: str, shape: ContainerShape
    ) -> ContainerProxy:
        if self._provision:
            return await database.create_container_if_not_exists(
                name, PartitionKey(path=shape.partition_key), default_ttl=shape.default_ttl
            )
        return database.get_container_client(name)

    async def close(self) -> None:
        client, credential = self._client, self._credential
        self._client = self._credential = None
        self._containers = {}
        self._outbox_documents = None
        if client is not None:
            await client.close()
        if credential is not None:
            await credential.close()

    @property
    def _submissions(self) -> ContainerProxy:
        return self._opened("submissions")

    @property
    def _idempotency(self) -> ContainerProxy:
        return self._opened("idempotency")

    @property
    def _ledger(self) -> ContainerProxy:
        return self._opened("ledger")

    def _opened(self, name: str) -> ContainerProxy:
        try:
            return self._containers[name]
        except KeyError:
            raise StoreUnavailable("the submission store is not open") from None

    @property
    def _chains(self) -> AuditChains:
        return AuditChains(self._submissions)

    @property
    def _outbox(self) -> CosmosOutbox:
        if self._outbox_documents is None:
            raise StoreUnavailable("the submission store is not open")
        return self._outbox_documents

    async def ping(self) -> None:
        # A missing item answers 404: the service is reachable and lets us in.
        with translated(), contextlib.suppress(CosmosResourceNotFoundError):
            await self._submissions.read_item("ping", partition_key="ping")

    # -- saving ----------------------------------------------------------------------------

    async def save_new(
        self,
        submission: Submission,
        event: CloudEvent,
        audit: AuditEntry,
        idempotency: Idempotency | None = None,
    ) -> SaveResult:
        if idempotency is None:
            await self._create_submission(submission, event, audit, None)
            return SaveResult(submission.client_id, submission.submitted_at, created=True)
        reservation = idempotency_document(idempotency, submission)
        for attempt in range(MAX_ATTEMPTS):
            with translated():
                try:
                    created = await self._idempotency.create_item(reservation)
                except CosmosResourceExistsError:
                    created = None
            if created is not None:
                try:
                    first = await self._create_submission(
                        submission, event, audit, reservation["key"]
                    )
                except ClientIdTaken:
                    await self._drop_reservation(reservation["key"], created["_etag"])
                    raise
                return SaveResult(submission.client_id, submission.submitted_at, created=first)
            result = await self._replay(idempotency, submission, event, audit)
            if result is not None:
                return result
            await contention_pause(attempt)
        raise StoreUnavailable("the idempotency key is too busy; try again")

    async def _replay(
        self, idempotency: Idempotency, submission: Submission, event: CloudEvent, audit: AuditEntry
    ) -> SaveResult | None:
        """The key was used before: the first result, or None to start over (the reservation
        was dropped meanwhile)."""
        key = key_hash(idempotency.key)
        with translated():
            try:
                earlier = await self._idempotency.read_item(key, partition_key=key)
            except CosmosResourceNotFoundError:
                return None
        if earlier["fingerprint"] != idempotency.fingerprint:
            raise IdempotencyConflict(idempotency.key)
        client_id = earlier["clientId"]
        submitted_at = datetime.fromisoformat(earlier["submittedAt"])
        existing = await self._read(client_id)
        if existing is not None:
            if existing.get("idempotencyKey") == key:
                return SaveResult(client_id, submitted_at, created=False)
            await self._drop_reservation(key, earlier["_etag"])  # a foreign record has the ID
            return None
        # The first writer has not committed (yet, or ever): write the same request under the
        # reserved Client ID; a 409 there means it committed meanwhile.
        reserved = submission.model_copy(
            update={"client_id": client_id, "submitted_at": submitted_at}
        )
        try:
            created = await self._create_submission(
                reserved,
                submission_created(reserved, event.traceparent),
                dataclasses.replace(audit, client_id=client_id),
                key,
            )
        except ClientIdTaken:
            await self._drop_reservation(key, earlier["_etag"])
            return None
        return SaveResult(client_id, submitted_at, created=created)

    async def _create_submission(
        self, submission: Submission, event: CloudEvent, audit: AuditEntry, key: str | None
    ) -> bool:
        """One batch: submission, outbox event, audit entry. True when this call wrote them,
        False when the record already exists under the same idempotency key."""
        partition = submission.client_id
        operations: list[Any] = [
            ("create", (submission_document(submission, key),)),
            ("create", (outbox_document(event, partition, submission.submitted_at, time.time()),)),
        ]
        try:
            await self._chains.commit(partition, operations, audit, new_partition=True)
        except CosmosBatchOperationError as error:
            index, status = failed_operation(error)
            if index != 0 or status != 409:
                raise batch_failure(error) from error
            existing = await self._read_existing(partition)
            if key is not None and existing.get("idempotencyKey") == key:
                return False
            raise ClientIdTaken(partition) from None
        return True

    async def _read_existing(self, client_id: str) -> dict[str, Any]:
        """A record a 409 just proved exists. Another client's session may not see it at
        once (Session consistency): a 404 then is a lagging replica, so read again."""
        for attempt in range(MAX_ATTEMPTS):
            document = await self._read(client_id)
            if document is not None:
                return document
            await contention_pause(attempt)
        raise StoreUnavailable("the submission store is not consistent yet; try again")

    async def _drop_reservation(self, key: str, etag: str) -> None:
        # Already dropped, or taken over by another request (then it is theirs): leave it.
        gone_or_taken = (CosmosResourceNotFoundError, CosmosAccessConditionFailedError)
        with translated(), contextlib.suppress(*gone_or_taken):
            await self._idempotency.delete_item(
                key, partition_key=key, etag=etag, match_condition=MatchConditions.IfNotModified
            )

    # -- reading ---------------------------------------------------------------------------

    async def _read(self, client_id: str) -> dict[str, Any] | None:
        if not is_document_id(client_id):
            return None
        with translated():
            try:
                document: dict[str, Any] = await self._submissions.read_item(
                    client_id, partition_key=client_id
                )
            except CosmosResourceNotFoundError:
                return None
        return document if document.get("type") in {SUBMISSION, TOMBSTONE} else None

    async def get(self, client_id: str) -> Submission | None:
        document = await self._read(client_id)
        if document is None or document["type"] != SUBMISSION:
            return None
        return read_submission(document)

    async def exists(self, client_id: str) -> bool:
        document = await self._read(client_id)
        return document is not None and document["type"] == SUBMISSION

    async def get_record(self, client_id: str) -> StoredRecord | None:
        document = await self._read(client_id)
        return None if document is None else StoredRecord(read_record(document), document["_etag"])

    async def search(self, query: SearchQuery) -> SearchPage:
        """The page :meth:`search_hits` lists, each record whole: for the contract tests and
        tests that read back what they saved; no service calls it (``SubmissionStore.search``)."""
        documents, token = await self._search_documents(query)
        return SearchPage(
            items=[read_submission(document) for document in documents], continuation_token=token
        )

    async def search_hits(self, query: SearchQuery) -> HitPage:
        documents, token = await self._search_documents(query)
        return HitPage(
            items=[SearchHit.from_document(document) for document in documents],
            continuation_token=token,
        )

    async def _search_documents(
        self, query: SearchQuery
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The page's documents and, when more follow, the token that continues after them."""
        if query.limit < 1 or (query.text and "\x00" in query.text):
            return [], None  # no stored text holds a NUL
        sql = queries.search(query)
        token = queries.unwrap_token(query.continuation_token) if query.continuation_token else None
        documents: list[dict[str, Any]] = []
        first = True
        # Cross-partition pages can come back short: keep asking for the rest of the page.
        while first or (token and len(documents) < query.limit):
            items = self._submissions.query_items(
                sql.text, parameters=sql.parameters, max_item_count=query.limit - len(documents)
            )
            pages: Any = items.by_page(token)
            with translated():
                page = await _next_page(pages, caller_token=first and token is not None)
                documents.extend([document async for document in page])
            token, first = pages.continuation_token, False
        return documents, queries.wrap_token(token)

    async def expired_records(self, submitted_before: datetime, limit: int) -> list[str]:
        sql = queries.expired(utc_text(submitted_before))
        found: list[str] = []
        with translated():
            async for row in self._submissions.query_items(
                sql.text, parameters=sql.parameters, max_item_count=limit
            ):
                if len(found) >= limit:
                    break
                found.append(row["clientId"])
        return found

    async def submission_figures(self, first_day: date, last_day: date) -> SubmissionFigures:
        """Counted here, page by page, from a projection of three fields per record: memory
        holds one page and the counts, however many records the days hold."""
        start, end = utc_days(first_day, last_day)
        sql = queries.figures(utc_text(start), utc_text(end))
        counts: Counter[tuple[date, Status, ServiceType]] = Counter()
        with translated():
            async for row in self._submissions.query_items(
                sql.text, parameters=sql.parameters, max_item_count=FIGURES_PAGE_SIZE
            ):
                # ``submittedAt`` is fixed-width UTC text: its first ten characters are the day.
                day = date.fromisoformat(row["submittedAt"][:10])
                counts[day, Status(row["status"]), ServiceType(row["serviceType"])] += 1
        return SubmissionFigures(counts)

    # -- staff changes ---------------------------------------------------------------------

    async def update_status(
        self, client_id: str, new_status: Status, expected_version: str, audit: AuditEntry
    ) -> StoredRecord:
        document = await self._read(client_id)
        if document is None:
            raise SubmissionNotFound(client_id)
        if document["type"] != SUBMISSION or document["_etag"] != expected_version:
            raise VersionConflict(client_id)
        changed = {**stored(document), "status": new_status.value}
        replace = ("replace", (client_id, changed), {"if_match_etag": expected_version})
        try:
            results = await self._chains.commit(client_id, [replace], audit)
        except CosmosBatchOperationError as error:
            index, status = failed_operation(error)
            if index == 0 and status in {404, 412}:
                raise VersionConflict(client_id) from None
            raise batch_failure(error) from error
        return StoredRecord(read_submission(changed), results[0]["eTag"])

    async def erase(self, client_id: str, audit: AuditEntry) -> StoredRecord:
        for attempt in range(MAX_ATTEMPTS):
            document = await self._read(client_id)
            if document is None:
                raise SubmissionNotFound(client_id)
            if document["type"] == TOMBSTONE:
                await self._chains.commit(client_id, [], audit)
                await self._forget_idempotency(document)
                return StoredRecord(read_record(document), document["_etag"])
            tombstone = tombstone_document(stored(document), audit.at)
            # Every event of the record goes, sent or not: its payload repeats the contact
            # details, and nobody should be contacted about an erased request.
            operations: list[Any] = [
                ("replace", (client_id, tombstone), {"if_match_etag": document["_etag"]}),
                *(("delete", (event_id,)) for event_id in await self._outbox_ids(client_id)),
            ]
            try:
                results = await self._chains.commit(client_id, operations, audit)
            except CosmosBatchOperationError as error:
                _, status = failed_operation(error)
                if status not in {404, 412}:
                    raise batch_failure(error) from error
                await contention_pause(attempt)  # changed meanwhile: read it again
                continue
            await self._forget_idempotency(document)
            return StoredRecord(read_record(tombstone), results[0]["eTag"])
        raise StoreUnavailable("the record is too busy to erase; try again")

    async def _outbox_ids(self, client_id: str) -> list[str]:
        sql = queries.in_partition(client_id, OUTBOX)
        with translated():
            return [
                document["id"]
                async for document in self._submissions.query_items(
                    sql.text, parameters=sql.parameters, partition_key=client_id
                )
            ]

    async def _forget_idempotency(self, document: dict[str, Any]) -> None:
        """The idempotency record's fingerprint hashes the personal data: delete it too. Its
        container is another partition, so this follows the batch; an erasure that stops in
        between is completed by erasing again."""
        key = document.get("idempotencyKey")
        if key is None:
            return
        with translated(), contextlib.suppress(CosmosResourceNotFoundError):
            await self._idempotency.delete_item(key, partition_key=key)

    async def forget_erased_remnants(self) -> None:
        """Nothing to rewrite: an erasure replaces the document in place and Cosmos DB keeps
        no index segments or log the application can reach. What it does keep is continuous
        backup (7 or 30 days, ``backupTier`` in Bicep), which expires on its own."""

    # -- audit -----------------------------------------------------------------------------

    async def append_audit(self, entry: AuditEntry) -> None:
        await self._chains.commit(audit_partition(entry), [], entry)

    async def audit_trail(self, client_id: str) -> list[AuditEntry]:
        return await self._chains.trail(client_id)

    async def verify_audit_chain(self) -> AuditChainReport:
        return await self._chains.verify()

    async def erasures_since(self, since: datetime) -> list[RecordedErasure]:
        sql = queries.erasures_since(AuditAction.ERASE, utc_text(since))
        with translated():
            rows = [
                row
                async for row in self._submissions.query_items(sql.text, parameters=sql.parameters)
            ]
        # A reason is missing (not null) from an erasure audited before reasons were.
        return [
            RecordedErasure(row["clientId"], datetime.fromisoformat(row["at"]), row.get("reason"))
            for row in rows
        ]

    # -- outbox ----------------------------------------------------------------------------

    async def claim_outbox(
        self, owner: str, limit: int, lease_seconds: float, *, min_age_seconds: float = 0.0
    ) -> list[OutboxItem]:
        return await self._outbox.claim(owner, limit, lease_seconds, min_age_seconds)

    async def mark_published(self, event_id: str) -> None:
        await self._outbox.mark_published(event_id)

    async def mark_published_batch(self, event_ids: Collection[str]) -> None:
        # One conditional replace per event (each in its own partition), sent together.
        await asyncio.gather(*(self._outbox.mark_published(event_id) for event_id in event_ids))

    async def release_outbox(self, event_id: str, retry_in_seconds: float) -> None:
        await self._outbox.release(event_id, retry_in_seconds)

    async def outbox_stats(self) -> OutboxStats:
        return await self._outbox.stats()

    async def purge_expired(self, now: datetime) -> PurgedItems:
        # Cosmos DB deletes them itself: a published event by the ttl it was marked with, an
        # idempotency key by its container's default TTL.
        return PurgedItems()

    # -- notify ledger ---------------------------------------------------------------------

    async def record_handled(self, event_id: str, handler: str) -> bool:
        entry = {
            "id": key_hash(handler),
            "eventId": event_id,
            "handler": handler,
            "handledAt": utc_text(datetime.now(UTC)),
        }
        with translated():
            try:
                await self._ledger.create_item(entry)
            except CosmosResourceExistsError:
                return False
        return True

    async def was_handled(self, event_id: str, handler: str) -> bool:
        with translated():
            try:
                await self._ledger.read_item(key_hash(handler), partition_key=event_id)
            except CosmosResourceNotFoundError:
                return False
        return True

    async def purge_expired_ledger(self, now: datetime) -> int:
        return 0  # the ledger container's default TTL deletes its entries


async def _next_page(pages: Any, *, caller_token: bool) -> AsyncIterator[dict[str, Any]]:
    """The next page; a token the SDK or the service cannot read is the caller's error."""
    try:
        page: AsyncIterator[dict[str, Any]] = await pages.__anext__()
    except StopAsyncIteration:
        return _empty()
    except CosmosHttpResponseError as error:
        if caller_token and error.status_code == 400:
            raise ValueError(queries.INVALID_TOKEN) from None
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        if caller_token:
            raise ValueError(queries.INVALID_TOKEN) from error
        raise
    return page


async def _empty() -> AsyncIterator[dict[str, Any]]:
    for _ in ():
        yield {}
