"""The read cache: short-lived copies of what staff read often."""

from __future__ import annotations

from typing import Protocol


class CacheUnavailable(Exception):
    """The cache cannot be reached. Reads go to the store instead; a change whose cached copy
    could not be dropped must say so, because the copy would outlive the change."""


class ReadCache(Protocol):
    """Short-lived copies of what is read often, shared by every replica when it is Redis.

    Values are bytes (encode JSON yourself) and always expire: ``set`` needs a TTL, and
    nothing extends it. Keys are plain strings; callers namespace them (``admin:record:…``).
    Adapters raise :class:`CacheUnavailable` for any failure of the cache itself.
    """

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, *keys: str) -> None:
        """Drop the keys (missing ones are fine) before answering."""
        ...

    async def ping(self) -> None:
        """Raise :class:`CacheUnavailable` when the cache cannot serve requests."""
        ...

    async def close(self) -> None: ...
