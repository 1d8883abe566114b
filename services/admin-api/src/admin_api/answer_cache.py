"""Answers kept in the read cache for a short while, each under a generation token.

What is cached is the answer itself (its JSON, and a record's version), so a hit costs no store
read and no validation; the caller still audits the read, every time.

Each copy carries the generation token that was current when its reader began. The token lives
under a key of its own and may cover one copy (a record) or many (every window of the dashboard
figures). A change drops the token right after the store commits; a copy whose token is not the
current one is never served. So a read that raced a change (store read before the commit, cache
write after) leaves only a copy nobody serves, overwritten by the next read or gone at its TTL.
A reader writes a missing token *before* it reads the store, which keeps that ordering true.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from intake_core.ports.cache import CacheUnavailable, ReadCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedAnswer:
    """An answer as a route sends it: its JSON body, and its version (the ETag) when it has one."""

    version: str
    body: bytes


def _encode(generation: bytes, answer: CachedAnswer) -> bytes:
    header = json.dumps({"generation": generation.decode(), "version": answer.version})
    return header.encode() + b"\n" + answer.body


def _decode(value: bytes | None, generation: bytes) -> CachedAnswer | None:
    if value is None:
        return None
    header, _, body = value.partition(b"\n")
    try:
        fields = json.loads(header)
        current = fields["generation"] == generation.decode()
        version = str(fields["version"])
    except (ValueError, KeyError, TypeError):
        return None
    return CachedAnswer(version, body) if current and body else None


class AnswerCache:
    def __init__(self, cache: ReadCache, ttl_seconds: float) -> None:
        self._cache = cache
        self._ttl = ttl_seconds

    async def read(
        self,
        generation_key: str,
        answer_key: str,
        load: Callable[[], Awaitable[CachedAnswer | None]],
    ) -> CachedAnswer | None:
        """The cached answer, or ``load``'s (then cached). A cache that fails is skipped."""
        try:
            generation = await self._cache.get(generation_key)
            if generation is not None:
                if (hit := _decode(await self._cache.get(answer_key), generation)) is not None:
                    return hit
            else:
                generation = secrets.token_hex(16).encode()
                await self._cache.set(generation_key, generation, self._ttl)
        except CacheUnavailable as error:
            logger.warning("read cache skipped: %s", error)
            generation = None
        answer = await load()
        if answer is not None and generation is not None:
            try:
                await self._cache.set(answer_key, _encode(generation, answer), self._ttl)
            except CacheUnavailable as error:
                logger.warning("read cache not filled: %s", error)
        return answer

    async def forget(self, *keys: str) -> None:
        """Drop generation tokens (and copies) right after the store committed a change.
        Raises :class:`CacheUnavailable` when they may have survived: the copies then live
        until their TTL at most."""
        await self._cache.delete(*keys)
