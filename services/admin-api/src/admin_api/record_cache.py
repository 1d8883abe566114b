"""Staff reads of one record, answered from the read cache for a short while.

What is cached is the answer itself (the record's JSON and its version), so a hit costs no
store read and no validation; the read is still audited by the caller, every time.

Each copy carries a generation token that lives under a key of its own. A change drops the
token and the copy right after the store commits; a copy whose token is not the current one is
never served. So a read that raced a change (store read before the commit, cache write after)
leaves only a copy nobody serves, overwritten by the next read or gone at its TTL. A reader
writes a missing token *before* it reads the store, which keeps that ordering true.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import TypeAdapter

from intake_core.domain.models import ErasedSubmission, Submission
from intake_core.ports import CacheUnavailable, ReadCache, StoredRecord, cached_record_keys

log = logging.getLogger(__name__)

KEY_PREFIX = "admin:v1:record:"
_RECORD_JSON: TypeAdapter[Submission | ErasedSubmission] = TypeAdapter(
    Submission | ErasedSubmission
)


@dataclass(frozen=True)
class RecordAnswer:
    """A record as ``GET /v1/submissions/{clientId}`` sends it: its JSON and its version."""

    version: str
    body: bytes

    @classmethod
    def of(cls, stored: StoredRecord) -> RecordAnswer:
        return cls(stored.version, _RECORD_JSON.dump_json(stored.record, by_alias=True))


_keys = cached_record_keys


def _encode(generation: bytes, answer: RecordAnswer) -> bytes:
    header = json.dumps({"generation": generation.decode(), "version": answer.version})
    return header.encode() + b"\n" + answer.body


def _decode(value: bytes | None, generation: bytes) -> RecordAnswer | None:
    if value is None:
        return None
    header, _, body = value.partition(b"\n")
    try:
        fields = json.loads(header)
        current = fields["generation"] == generation.decode()
        version = str(fields["version"])
    except (ValueError, KeyError, TypeError):
        return None
    return RecordAnswer(version, body) if current and body else None


class RecordCache:
    def __init__(self, cache: ReadCache, ttl_seconds: float) -> None:
        self._cache = cache
        self._ttl = ttl_seconds

    async def read(
        self, client_id: str, load: Callable[[str], Awaitable[StoredRecord | None]]
    ) -> RecordAnswer | None:
        """The cached answer, or ``load``'s (then cached). A cache that fails is skipped."""
        generation_key, record_key = _keys(client_id)
        try:
            generation = await self._cache.get(generation_key)
            if generation is not None:
                if (hit := _decode(await self._cache.get(record_key), generation)) is not None:
                    return hit
            else:
                generation = secrets.token_hex(16).encode()
                await self._cache.set(generation_key, generation, self._ttl)
        except CacheUnavailable as error:
            log.warning("read cache skipped: %s", error)
            generation = None
        stored = await load(client_id)
        if stored is None:
            return None
        answer = RecordAnswer.of(stored)
        if generation is not None:
            try:
                await self._cache.set(record_key, _encode(generation, answer), self._ttl)
            except CacheUnavailable as error:
                log.warning("read cache not filled: %s", error)
        return answer

    async def forget(self, client_id: str) -> None:
        """Call right after the store committed a change. Raises :class:`CacheUnavailable`
        when the copy may have survived (it then lives until its TTL at most)."""
        await self._cache.delete(*_keys(client_id))
