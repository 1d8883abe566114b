"""The Cosmos DB SQL the store runs: every value a parameter, never text pasted into a query.

Search pages newest first with the SDK's continuation tokens (``OFFSET``/``LIMIT`` cost more the
deeper the page, and the test server cannot parse them). The SDK's token is opaque text; callers
get it inside a small JSON envelope, base64url-encoded, so it travels in a query string
unchanged and a token that is not ours is refused before the SDK or the service reads it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from intake_core.adapters.cosmos_documents import (
    AUDIT,
    AUDIT_HEAD,
    OUTBOX,
    SUBMISSION,
    TOMBSTONE,
)
from intake_core.domain.client_id import client_id_forms
from intake_core.domain.utc import utc_text
from intake_core.ports.staff import SearchQuery

SDK_POSITION = "cosmos"
INVALID_TOKEN = "continuationToken is not valid"  # noqa: S105 - a message, not a secret


@dataclass(frozen=True)
class Query:
    text: str
    parameters: list[dict[str, Any]] = field(default_factory=list)


def search(query: SearchQuery) -> Query:
    clauses = ["c.type = @type"]
    parameters: list[dict[str, Any]] = [{"name": "@type", "value": SUBMISSION}]
    for name, path, value in (
        ("@industry", "c.industry", query.industry),
        ("@serviceType", "c.serviceType", query.service_type),
        ("@status", "c.status", query.status),
    ):
        if value is not None:
            clauses.append(f"{path} = {name}")
            parameters.append({"name": name, "value": value.value})
    if query.submitted_from is not None:
        clauses.append("c.submittedAt >= @from")
        parameters.append({"name": "@from", "value": utc_text(query.submitted_from)})
    if query.submitted_to is not None:
        clauses.append("c.submittedAt <= @to")
        parameters.append({"name": "@to", "value": utc_text(query.submitted_to)})
    if query.text:
        # searchText is stored case-folded, so a case-sensitive CONTAINS of the folded text is
        # the case-insensitive match (and folds ß to ss, which LOWER would not).
        match = "CONTAINS(c.searchText, @text)"
        parameters.append({"name": "@text", "value": query.text.casefold()})
        # Text that can be a piece of a Client ID (five symbols or more: client_id_forms) also
        # finds the IDs that hold it, written as they are, with hyphens. (Not CONTAINS on
        # REPLACE(c.clientId, ...): the test server's REPLACE drops only the first hyphen.)
        for n, form in enumerate(client_id_forms(query.text)):
            match += f" OR CONTAINS(c.clientId, @id{n})"
            parameters.append({"name": f"@id{n}", "value": form})
        clauses.append(f"({match})")
    return Query(
        f"SELECT * FROM c WHERE {' AND '.join(clauses)} ORDER BY c.submittedAt DESC",  # noqa: S608 - fixed clauses, values are parameters
        parameters,
    )


def expired(submitted_before: str) -> Query:
    return Query(
        "SELECT c.clientId, c.submittedAt FROM c WHERE c.type = @type"
        " AND c.submittedAt < @before ORDER BY c.submittedAt",
        [{"name": "@type", "value": SUBMISSION}, {"name": "@before", "value": submitted_before}],
    )


def figures(received_from: str, received_before: str) -> Query:
    """What the dashboard figures count, one small row per record (tombstones included),
    added up by the caller. Not ``GROUP BY``: the Python SDK runs no cross-partition GROUP BY
    (azure-cosmos 4.17 does not announce that query feature, so the service refuses the
    query plan), and the test server cannot run it either."""
    return Query(
        "SELECT c.submittedAt, c.status, c.serviceType FROM c"
        " WHERE (c.type = @submission OR c.type = @tombstone)"
        " AND c.submittedAt >= @from AND c.submittedAt < @before",
        [
            {"name": "@submission", "value": SUBMISSION},
            {"name": "@tombstone", "value": TOMBSTONE},
            {"name": "@from", "value": received_from},
            {"name": "@before", "value": received_before},
        ],
    )


def claimable_outbox(now: float, saved_before: str) -> Query:
    """Due, unpublished events saved no later than ``saved_before`` (UTC text, which sorts)."""
    return Query(
        "SELECT * FROM c WHERE c.type = @type AND NOT IS_DEFINED(c.publishedAt)"
        " AND c.availableAt <= @now AND c.createdAt <= @savedBefore ORDER BY c.availableAt",
        [
            {"name": "@type", "value": OUTBOX},
            {"name": "@now", "value": now},
            {"name": "@savedBefore", "value": saved_before},
        ],
    )


def outbox_backlog() -> Query:
    return Query(
        "SELECT VALUE COUNT(1) FROM c WHERE c.type = @type AND NOT IS_DEFINED(c.publishedAt)",
        [{"name": "@type", "value": OUTBOX}],
    )


def outbox_oldest_unpublished() -> Query:
    return Query(
        "SELECT VALUE MIN(c.createdAt) FROM c WHERE c.type = @type"
        " AND NOT IS_DEFINED(c.publishedAt)",
        [{"name": "@type", "value": OUTBOX}],
    )


def outbox_event(event_id: str) -> Query:
    """Across partitions: finds an event's document when only its id is known."""
    return Query(
        "SELECT * FROM c WHERE c.type = @type AND c.id = @id",
        [{"name": "@type", "value": OUTBOX}, {"name": "@id", "value": event_id}],
    )


def in_partition(partition: str, kind: str, order_by_seq: bool = False) -> Query:
    """Documents of one kind in one partition. The partition key is in the WHERE clause as
    well as passed to the SDK: it scopes the query on a real account either way, and the test
    server ignores the SDK's ``partition_key``."""
    order = " ORDER BY c.seq" if order_by_seq else ""
    return Query(
        f"SELECT * FROM c WHERE c.clientId = @pk AND c.type = @type{order}",  # noqa: S608 - fixed text
        [{"name": "@pk", "value": partition}, {"name": "@type", "value": kind}],
    )


def audit_heads() -> Query:
    return Query("SELECT * FROM c WHERE c.type = @type", [{"name": "@type", "value": AUDIT_HEAD}])


def erasures_since(action: str, since: str) -> Query:
    """Across partitions: the erasures audited at or after ``since`` (UTC text, which sorts),
    oldest first. Each is in its record's partition. Only the fields a restore needs are read:
    not the actor (a staff member) nor the note."""
    return Query(
        "SELECT c.entry.clientId AS clientId, c.entry.at AS at,"
        " c.entry.details.reason AS reason FROM c"
        " WHERE c.type = @type AND c.entry.action = @action AND c.entry.at >= @since"
        " ORDER BY c.entry.at",
        [
            {"name": "@type", "value": AUDIT},
            {"name": "@action", "value": action},
            {"name": "@since", "value": since},
        ],
    )


def audit_entry_count() -> Query:
    return Query(
        "SELECT VALUE COUNT(1) FROM c WHERE c.type = @type", [{"name": "@type", "value": AUDIT}]
    )


def wrap_token(sdk_token: str | None) -> str | None:
    if not sdk_token:
        return None
    wrapped = json.dumps({SDK_POSITION: sdk_token}, separators=(",", ":"))
    return base64.urlsafe_b64encode(wrapped.encode()).decode()


def unwrap_token(token: str) -> str:
    """The SDK's token inside one of ours; anything else is refused before the SDK sees it."""
    try:
        standard = token.encode("ascii").translate(bytes.maketrans(b"-_", b"+/"))
        wrapped = json.loads(base64.b64decode(standard, validate=True))
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise ValueError(INVALID_TOKEN) from error
    sdk_token = wrapped.get(SDK_POSITION) if isinstance(wrapped, dict) else None
    if not isinstance(sdk_token, str) or not sdk_token:
        raise ValueError(INVALID_TOKEN)
    return sdk_token
