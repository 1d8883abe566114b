"""After a point-in-time restore of the store: the erasures it lost, made again.

A restore (Cosmos DB continuous backup, an SQLite file copy) brings back every record erased
after the restore point, and its audit trail no longer lists those erasures: only the store
restored from does. ``intake erasures list --since`` reads them from that store as JSON lines,
one per record; ``intake erasures reapply FILE`` erases each again on the restored store, as
:mod:`intake_core.erasure` does for staff and the retention job, audited as ``system:restore``
with the first erasure's reason and time.

The file is checked whole before anything is erased: a line that is not one of ours stops the
run with its number. Reapplying is idempotent: a record already a tombstone is not erased or
audited again (its queue messages and cached copies are dropped anew, which finishes a run that
stopped halfway), and a record the restored store never had is reported, not an error (it was
submitted after the restore point).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from intake_core.bootstrap import open_cache, open_queue, open_store
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.client_id import InvalidClientId, normalise_client_id
from intake_core.domain.erasure import (
    NOT_STATED,
    RECORDED_REASONS,
    RESTORE_ACTOR,
    RecordedErasure,
    erasure_details,
)
from intake_core.domain.utc import utc_text
from intake_core.erasure import Erasure
from intake_core.settings import CommonSettings, ReadCacheSettings

# A line of ours is about 100 bytes; anything much longer is not one.
MAX_LINE_BYTES = 1000
_FIELDS = ("clientId", "erasedAt", "reason")


class ErasureFileError(ValueError):
    """A line of an erasures file is not one ``intake erasures list`` writes."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line


def erasure_line(erasure: RecordedErasure) -> str:
    return json.dumps(
        {
            "clientId": erasure.client_id,
            "erasedAt": utc_text(erasure.erased_at),
            "reason": erasure.reason,
        }
    )


def first_of_each_record(erasures: Iterable[RecordedErasure]) -> list[RecordedErasure]:
    """The earliest erasure of each record, oldest first: erasing an erased record again (a
    repeat after a 503, say) is audited too, but erased nothing."""
    first: dict[str, RecordedErasure] = {}
    for erasure in sorted(erasures, key=lambda erasure: erasure.erased_at):
        first.setdefault(erasure.client_id, erasure)
    return list(first.values())


def read_erasures(stream: BinaryIO) -> list[RecordedErasure]:
    """Every line of ``stream`` (blank ones skipped), checked; raises :class:`ErasureFileError`
    at the first line that is not one of ours. The offending text is never echoed: it could be
    anything, terminal escapes included."""
    erasures = []
    for number, raw in enumerate(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), 1):
        if len(raw) > MAX_LINE_BYTES:
            raise ErasureFileError(number, f"is longer than {MAX_LINE_BYTES} bytes")
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ErasureFileError(number, "is not UTF-8 text") from None
        if text:
            erasures.append(_erasure(number, text))
    return erasures


def _erasure(number: int, text: str) -> RecordedErasure:
    try:
        fields = json.loads(text, object_pairs_hook=_without_repeats)
    except ValueError:
        raise ErasureFileError(number, "is not a JSON object") from None
    if not isinstance(fields, dict):
        raise ErasureFileError(number, "is not a JSON object")
    if set(fields) != set(_FIELDS):
        raise ErasureFileError(number, "must have exactly the fields clientId, erasedAt, reason")
    client_id, erased_at, reason = (fields[name] for name in _FIELDS)
    if not isinstance(client_id, str) or not _is_client_id(client_id):
        raise ErasureFileError(number, "clientId is not a Client ID (CL-XXXX-XXXX-XXXX)")
    moment = aware_time(erased_at) if isinstance(erased_at, str) else None
    if moment is None:
        raise ErasureFileError(number, "erasedAt is not an ISO 8601 time with a UTC offset")
    if reason is not None and not (isinstance(reason, str) and reason in RECORDED_REASONS):
        allowed = ", ".join(sorted(RECORDED_REASONS))
        raise ErasureFileError(number, f"reason is not null or one of {allowed}")
    return RecordedErasure(client_id, moment, reason)


def _without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ValueError("a repeated field")
    return fields


def _is_client_id(text: str) -> bool:
    try:
        return normalise_client_id(text) == text  # only the canonical form the list writes
    except InvalidClientId:
        return False


def aware_time(text: str) -> datetime | None:
    """``text`` as a time, if it is ISO 8601 with a UTC offset; else None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class ReapplyReport:
    """What a reapply did with each record of the file, by Client ID."""

    reapplied: list[str]
    already_erased: list[str]
    not_found: list[str]
    queue_messages_purged: int
    # Records erased whose cached copy the read cache could not confirm dropped.
    cached_copies_left: int = 0


async def reapply_erasures(
    erasure: Erasure,
    erasures: Sequence[RecordedErasure],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ReapplyReport:
    """Erase again, on the restored store, each record of ``erasures`` that is not erased."""
    reapplied, already_erased, not_found = [], [], []
    for first in first_of_each_record(erasures):
        stored = await erasure.store.get_record(first.client_id)
        if stored is None:
            not_found.append(first.client_id)
        elif stored.erased:
            await erasure.drop_copies(first.client_id)
            already_erased.append(first.client_id)
        else:
            details = {
                **erasure_details(first.reason or NOT_STATED),
                "originallyErasedAt": utc_text(first.erased_at),
            }
            await erasure.erase(
                AuditEntry(AuditAction.ERASE, RESTORE_ACTOR, clock(), first.client_id, details)
            )
            reapplied.append(first.client_id)
    await erasure.finish()
    return ReapplyReport(
        reapplied,
        already_erased,
        not_found,
        erasure.queue_messages_purged,
        len(erasure.copies_left),
    )


async def list_erasures(settings: CommonSettings, since: datetime) -> list[RecordedErasure]:
    """The first erasure since ``since`` of each record, from the store the settings name."""
    store = await open_store(settings)
    try:
        return first_of_each_record(await store.erasures_since(since))
    finally:
        await store.close()


async def run_reapply(
    settings: ReadCacheSettings, erasures: Sequence[RecordedErasure]
) -> ReapplyReport:
    """Open the adapters the settings name (as the retention job does), reapply, close them."""
    store = await open_store(settings)
    try:
        queue = await open_queue(settings) if settings.bus == "local" else None
        cache = await open_cache(settings)
        try:
            return await reapply_erasures(Erasure(store, queue, cache), erasures)
        finally:
            await cache.close()
            if queue is not None:
                await queue.close()
    finally:
        await store.close()
