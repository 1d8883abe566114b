"""The submission store as a whole: every role it plays, in one protocol.

Submissions, their outbox, the audit trail, idempotency keys and the notify ledger live in one
store, and each adapter (SQLite, Cosmos DB) implements it whole. Callers do not hold it whole:
each types the store by the role it uses (:mod:`intake_core.ports.intake`, ``outbox``,
``ledger``, ``staff``), so a service sees only the methods it calls. The whole store is for
whoever opens and closes it (``bootstrap.open_store``, the jobs, the contract tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from intake_core.domain.models import Submission
from intake_core.ports.intake import IntakeStore
from intake_core.ports.ledger import NotifyLedger
from intake_core.ports.staff import SearchQuery, StaffSubmissionStore


class StoreUnavailable(Exception):
    """The store cannot be reached; the caller should answer 503 and keep the data."""


@dataclass(frozen=True)
class SearchPage:
    items: list[Submission]
    continuation_token: str | None


class SubmissionStore(IntakeStore, NotifyLedger, StaffSubmissionStore, Protocol):
    """Submissions, their outbox, the audit trail, idempotency keys and the notify ledger."""

    async def search(self, query: SearchQuery) -> SearchPage:
        """The same page as :meth:`search_hits` (same rows, same continuation token), each
        record whole. No service calls it (admin-api lists with ``search_hits``, which decodes
        no record): it is there for the contract tests, which check ``search_hits`` against
        it, and for tests that read back what they saved."""
        ...

    async def close(self) -> None: ...
