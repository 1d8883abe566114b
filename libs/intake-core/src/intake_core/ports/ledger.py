"""What the notifier needs from the store: its ledger of handled events, and whether the
record an event names is still there."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class NotifyLedger(Protocol):
    """Handled event ids, so a redelivered message never sends a second email."""

    async def exists(self, client_id: str) -> bool:
        """Whether the record is there and not erased (what ``get`` would find), without
        reading it back: the notifier sends nothing about an erased record."""
        ...

    async def record_handled(self, event_id: str, handler: str) -> bool:
        """Remember that ``handler`` finished ``event_id``; False when it already had."""
        ...

    async def was_handled(self, event_id: str, handler: str) -> bool: ...

    async def purge_expired_ledger(self, now: datetime) -> int:
        """Delete the ledger entries handled more than ``LEDGER_TTL_SECONDS`` before ``now``
        (see :mod:`intake_core.ports.lifetimes`), as Cosmos DB's TTL would have; returns how
        many went. Only the notifier, which keeps the ledger, calls it. A store that expires
        them itself deletes nothing here."""
        ...
