"""The audit trail in Cosmos DB: one hash chain per logical partition.

Writers on different replicas share no lock, so one chain over the whole trail would make every
audited action in the system race for one head document. Each partition (a record, or a day of
staff actions on no record) has its own chain instead: entries ``audit-<seq>`` linked by
:func:`audit_chain_hash`, and a head document holding the last sequence number and hash.

Appending is optimistic: read the head, then write the record's own change, the new head (with
``If-Match`` on the old one, or a create for the first entry) and the entry, in one
transactional batch in that partition. A batch that loses the race on the head fails as a whole
and is tried again from a fresh head, so a chain never forks; the head also tells a deleted
latest entry apart from an untouched chain.

Verifying walks every chain. The report's ``head_hash`` is a hash over all partitions' heads,
so any append anywhere moves it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from azure.cosmos import CosmosList
from azure.cosmos.aio import ContainerProxy
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosResourceNotFoundError

from intake_core.adapters import cosmos_queries as queries
from intake_core.adapters.cosmos_documents import (
    AUDIT,
    AUDIT_HEAD_ID,
    audit_link,
    read_audit_entry,
)
from intake_core.adapters.cosmos_errors import (
    MAX_ATTEMPTS,
    contention_pause,
    failed_operation,
    translated,
)
from intake_core.domain.audit import (
    AUDIT_GENESIS_HASH,
    AuditChainReport,
    AuditEntry,
    audit_chain_hash,
)
from intake_core.ports.store import StoreUnavailable

BatchOperation = tuple[str, tuple[Any, ...]] | tuple[str, tuple[Any, ...], dict[str, Any]]
_CONFLICTS = {409, 412}


class AuditChains:
    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def commit(
        self,
        partition: str,
        record_operations: Sequence[BatchOperation],
        entry: AuditEntry,
        *,
        new_partition: bool = False,
    ) -> CosmosList:
        """Run ``record_operations`` and append ``entry`` in one transactional batch.

        ``new_partition`` skips reading the head for a partition that should not have one yet
        (a new submission); if it has one after all, the next attempt reads it. A failure of a
        record operation is raised as is for the caller to interpret.
        """
        head: dict[str, Any] | None = None
        read_head = not new_partition
        for attempt in range(MAX_ATTEMPTS):
            if read_head:
                head = await self._head(partition)
            operations = [*record_operations, *self._link(partition, head, entry)]
            try:
                with translated():
                    return await self._container.execute_item_batch(
                        operations, partition_key=partition
                    )
            except CosmosBatchOperationError as error:
                index, status = failed_operation(error)
                if index < len(record_operations) or status not in _CONFLICTS:
                    raise
            read_head = True
            await contention_pause(attempt)
        raise StoreUnavailable("the audit trail is too busy; try again")

    def _link(
        self, partition: str, head: dict[str, Any] | None, entry: AuditEntry
    ) -> list[BatchOperation]:
        if head is None:
            document, new_head = audit_link(partition, 1, AUDIT_GENESIS_HASH, entry)
            return [("create", (new_head,)), ("create", (document,))]
        document, new_head = audit_link(partition, head["seq"] + 1, head["hash"], entry)
        return [
            ("replace", (AUDIT_HEAD_ID, new_head), {"if_match_etag": head["_etag"]}),
            ("create", (document,)),
        ]

    async def _head(self, partition: str) -> dict[str, Any] | None:
        with translated():
            try:
                head: dict[str, Any] = await self._container.read_item(
                    AUDIT_HEAD_ID, partition_key=partition
                )
            except CosmosResourceNotFoundError:
                return None
        return head

    async def trail(self, partition: str) -> list[AuditEntry]:
        return [read_audit_entry(document) for document in await self._entries(partition)]

    async def _entries(self, partition: str) -> list[dict[str, Any]]:
        query = queries.in_partition(partition, AUDIT, order_by_seq=True)
        with translated():
            return [
                document
                async for document in self._container.query_items(
                    query.text, parameters=query.parameters, partition_key=partition
                )
            ]

    async def verify(self) -> AuditChainReport:
        heads_query, count_query = queries.audit_heads(), queries.audit_entry_count()
        with translated():
            heads = [
                head
                async for head in self._container.query_items(
                    heads_query.text, parameters=heads_query.parameters
                )
            ]
            total: list[Any] = [
                count
                async for count in self._container.query_items(
                    count_query.text, parameters=count_query.parameters
                )
            ]
        heads.sort(key=lambda head: str(head["clientId"]))
        walked = 0
        for head in heads:
            entries = await self._entries(head["clientId"])
            problem = _walk(entries, head)
            if problem is not None:
                seq, text = problem
                return AuditChainReport(
                    False, walked, _combined(heads), broken_at=seq,
                    problem=f"partition {head['clientId']}: entry {seq} {text}",
                )  # fmt: skip
            walked += len(entries)
        if sum(int(count) for count in total) > walked:
            return AuditChainReport(
                False, walked, _combined(heads), broken_at=None,
                problem="some entries belong to no chain (a chain head was deleted)",
            )  # fmt: skip
        return AuditChainReport(True, walked, _combined(heads))


def _walk(entries: list[dict[str, Any]], head: dict[str, Any]) -> tuple[int, str] | None:
    """Where one partition's chain breaks, if it does."""
    previous_hash, previous_seq = AUDIT_GENESIS_HASH, 0
    for document in entries:
        seq = document.get("seq")
        if not isinstance(seq, int):
            return previous_seq + 1, "is not readable"
        if seq != previous_seq + 1:
            return seq, f"follows a gap: entries {previous_seq + 1} to {seq - 1} are missing"
        if document.get("prevHash") != previous_hash:
            return seq, "does not link to the entry before it"
        try:
            expected = audit_chain_hash(previous_hash, seq, read_audit_entry(document))
        except (KeyError, ValueError, TypeError):
            return seq, "is not readable"
        if document.get("hash") != expected:
            return seq, "was changed after it was written"
        previous_hash, previous_seq = expected, seq
    if head.get("seq") != previous_seq or head.get("hash") != previous_hash:
        return previous_seq + 1, "and later ones are missing (the chain head is ahead)"
    return None


def _combined(heads: list[dict[str, Any]]) -> str:
    if not heads:
        return AUDIT_GENESIS_HASH
    lines = "\n".join(f"{head['clientId']}:{head['seq']}:{head['hash']}" for head in heads)
    return hashlib.sha256(lines.encode()).hexdigest()
