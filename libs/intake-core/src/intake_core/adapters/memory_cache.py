"""The embedded read cache: a bounded LRU in this process, each entry with its own expiry.

Per process by design: another replica, or the retention job, cannot reach it to drop a copy,
so settings allow it in dev and test only (see ``ReadCacheSettings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TLRUCache


def _expiry(_key: str, entry: tuple[bytes, float], now: float) -> float:
    return now + entry[1]


class MemoryReadCache:
    """At most ``max_entries`` values; the least recently used goes first when it is full."""

    def __init__(
        self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: TLRUCache[str, tuple[bytes, float]] = TLRUCache(
            maxsize=max_entries, ttu=_expiry, timer=clock
        )

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._entries[key] = (bytes(value), ttl_seconds)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        self._entries.expire()
        return len(self._entries)


class NoReadCache:
    """``CACHE=none``: remembers nothing, so every read goes to the store."""

    async def get(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        return None

    async def delete(self, *keys: str) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
