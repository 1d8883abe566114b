"""The transactional outbox in Cosmos DB: event documents next to their submission.

Relays on any number of replicas claim with optimistic concurrency. A cross-partition query
finds due, unpublished events, oldest first; a replace with ``If-Match`` on each one's etag
takes its lease. A 412 means another relay changed it first (won it): skip it and try the next.
A lease is an ``availableAt`` in the future, so a crashed relay's events come due again.

A published event is marked (not deleted) and gets a per-item ``ttl``: Cosmos DB removes it a
week later (the container has TTL on with no default; the npm test server ignores TTL).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.cosmos.aio import ContainerProxy
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

from intake_core.adapters import cosmos_queries as queries
from intake_core.adapters.cosmos_documents import OUTBOX, event_of, stored
from intake_core.adapters.cosmos_errors import MAX_ATTEMPTS, contention_pause, translated
from intake_core.domain.utc import utc_text
from intake_core.ports.lifetimes import PUBLISHED_EVENT_TTL_SECONDS
from intake_core.ports.outbox import OutboxItem, OutboxStats
from intake_core.ports.store import StoreUnavailable

# Claimed events remember their partition, so marking one is a point read, not a query.
CLAIM_MEMORY = 10_000


class CosmosOutbox:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container
        self._claimed: OrderedDict[str, str] = OrderedDict()

    async def claim(
        self, owner: str, limit: int, lease_seconds: float, min_age_seconds: float = 0.0
    ) -> list[OutboxItem]:
        claimed: list[OutboxItem] = []
        if limit <= 0:
            return claimed
        now = time.time()
        saved_before = utc_text(datetime.fromtimestamp(now - min_age_seconds, UTC))
        sql = queries.claimable_outbox(now, saved_before)
        with translated():
            async for document in self._container.query_items(
                sql.text, parameters=sql.parameters, max_item_count=max(limit, 10)
            ):
                lease = {
                    **stored(document),
                    "leaseOwner": owner,
                    "availableAt": now + lease_seconds,
                    "attempts": document.get("attempts", 0) + 1,
                }
                if await self._replace_if_unchanged(document, lease):
                    self._remember(document["id"], document["clientId"])
                    claimed.append(OutboxItem(event_of(lease), lease["attempts"]))
                    if len(claimed) >= limit:
                        break
        return claimed

    async def mark_published(self, event_id: str) -> None:
        for attempt in range(MAX_ATTEMPTS):
            document = await self._document(event_id)
            if document is None:
                return  # erased meanwhile: nothing left to mark
            published = _without_lease(document)
            published.update(
                publishedAt=utc_text(datetime.now(UTC)), ttl=PUBLISHED_EVENT_TTL_SECONDS
            )
            with translated():
                if await self._replace_if_unchanged(document, published):
                    self._claimed.pop(event_id, None)
                    return
            await contention_pause(attempt)
        raise StoreUnavailable("the outbox is too busy; try again")

    async def release(self, event_id: str, retry_in_seconds: float) -> None:
        for attempt in range(MAX_ATTEMPTS):
            document = await self._document(event_id)
            if document is None or "publishedAt" in document:
                return
            released = _without_lease(document)
            released["availableAt"] = time.time() + retry_in_seconds
            with translated():
                if await self._replace_if_unchanged(document, released):
                    self._claimed.pop(event_id, None)
                    return
            await contention_pause(attempt)
        raise StoreUnavailable("the outbox is too busy; try again")

    async def backlog(self) -> int:
        sql = queries.outbox_backlog()
        with translated():
            counts: list[Any] = [
                count
                async for count in self._container.query_items(sql.text, parameters=sql.parameters)
            ]
        return sum(int(count) for count in counts)

    async def stats(self) -> OutboxStats:
        """Two aggregates across partitions (the SDK combines per-partition results only for
        ``SELECT VALUE`` aggregates): the backlog, and the oldest unpublished ``createdAt``,
        fixed-width UTC text that sorts like the instant it names."""
        sql = queries.outbox_oldest_unpublished()
        with translated():
            oldest: list[Any] = [
                created
                async for created in self._container.query_items(
                    sql.text, parameters=sql.parameters
                )
            ]
        texts = [created for created in oldest if isinstance(created, str)]
        return OutboxStats(
            backlog=await self.backlog(),
            oldest_created_at=datetime.fromisoformat(min(texts)) if texts else None,
        )

    async def _replace_if_unchanged(
        self, document: dict[str, Any], replacement: dict[str, Any]
    ) -> bool:
        """False when someone changed (or deleted) the document since it was read."""
        try:
            await self._container.replace_item(
                document["id"],
                replacement,
                etag=document["_etag"],
                match_condition=MatchConditions.IfNotModified,
            )
        except (CosmosAccessConditionFailedError, CosmosResourceNotFoundError):
            return False
        return True

    def _remember(self, event_id: str, client_id: str) -> None:
        self._claimed[event_id] = client_id
        self._claimed.move_to_end(event_id)
        while len(self._claimed) > CLAIM_MEMORY:
            self._claimed.popitem(last=False)

    async def _document(self, event_id: str) -> dict[str, Any] | None:
        with translated():
            client_id = self._claimed.get(event_id)
            if client_id is not None:
                try:
                    document: dict[str, Any] = await self._container.read_item(
                        event_id, partition_key=client_id
                    )
                except CosmosResourceNotFoundError:
                    return None
                return document if document.get("type") == OUTBOX else None
            # Claimed by another replica (or before a restart): find it across partitions.
            sql = queries.outbox_event(event_id)
            async for found in self._container.query_items(sql.text, parameters=sql.parameters):
                return dict(found)
        return None


def _without_lease(document: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in stored(document).items() if name != "leaseOwner"}
