"""A read cache that cannot be reached: every call fails as the Redis adapter's do."""

from __future__ import annotations

from intake_core.ports.cache import CacheUnavailable


class UnreachableCache:
    async def get(self, key: str) -> bytes | None:
        raise CacheUnavailable("Redis: ConnectionError")

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        raise CacheUnavailable("Redis: ConnectionError")

    async def delete(self, *keys: str) -> None:
        raise CacheUnavailable("Redis: ConnectionError")

    async def ping(self) -> None:
        raise CacheUnavailable("Redis: ConnectionError")

    async def close(self) -> None:
        pass
