"""The read cache on Redis (Azure Cache for Redis in production), with redis-py's asyncio client.

Azure Cache for Redis: ``REDIS_URL=rediss://:<access key>@<name>.redis.cache.windows.net:6380/0``
(TLS on 6380; the non-TLS port stays disabled). Microsoft Entra ID instead of the access key is
a follow-up: ``redis-entraid`` gives redis-py a credential provider that fetches and renews the
token of the pod's workload identity, with the identity's object id as the user name.

What the cache holds is personal data (admin-api keeps staff reads of whole records in it), so
every value has a TTL, the instance should have persistence off, and ``docs/privacy.md`` lists it.
"""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from intake_core.ports.cache import CacheUnavailable

# A cache answers in a millisecond or not at all: waiting longer than the store would cost
# defeats it. redis-py's own retries stay off; the caller falls back to the store.
TIMEOUT_SECONDS = 0.5


def _unavailable(error: Exception) -> CacheUnavailable:
    # The error's type only: redis-py messages can name the host, never the credentials,
    # but nothing about the connection belongs in an answer or a log line.
    return CacheUnavailable(f"Redis: {type(error).__name__}")


class RedisReadCache:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @classmethod
    def from_url(cls, url: str, timeout_seconds: float = TIMEOUT_SECONDS) -> RedisReadCache:
        """Connects lazily: a cache that is down must not stop a service from starting."""
        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            health_check_interval=30,
            retry=Retry(NoBackoff(), retries=0),
        )
        return cls(client)

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._client.get(key)
        except (RedisError, OSError) as error:
            raise _unavailable(error) from None
        # decode_responses is off, so redis-py hands back the bytes it read.
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        try:
            await self._client.set(key, value, px=max(1, round(ttl_seconds * 1000)))
        except (RedisError, OSError) as error:
            raise _unavailable(error) from None

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        try:
            await self._client.delete(*keys)
        except (RedisError, OSError) as error:
            raise _unavailable(error) from None

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            raise _unavailable(error) from None

    async def close(self) -> None:
        await self._client.aclose()
