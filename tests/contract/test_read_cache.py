"""The ReadCache port over every adapter: in-process (cachetools) and Redis.

Redis is a real ``redis-server`` (Debian package) on free ports, behind a password, reached
over plain TCP and over TLS (``rediss://``, as Azure Cache for Redis is). No skip: without the
binary the fixture installs it as root, or fails saying how to get it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from intake_core.adapters.memory_cache import MemoryReadCache, NoReadCache
from intake_core.adapters.redis_cache import RedisReadCache
from intake_core.bootstrap import open_cache
from intake_core.ports.cache import CacheUnavailable, ReadCache
from intake_core.settings import ReadCacheSettings
from support.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["memory", "redis", "redis-tls"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[ReadCache]:
    adapter: ReadCache
    if request.param == "memory":
        adapter = MemoryReadCache(max_entries=100)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        url = server.tls_url if "tls" in request.param else server.url
        # The contract, not the production timeout (0.5 s): on a loaded machine the first TLS
        # handshake took longer, and the ping failed on that alone.
        adapter = RedisReadCache.from_url(url, timeout_seconds=5)
    yield adapter
    await adapter.close()


async def test_a_missing_key_is_none(cache: ReadCache) -> None:
    assert await cache.get("nothing-here") is None


async def test_values_come_back_byte_for_byte(cache: ReadCache) -> None:
    value = bytes(range(256)) + "Zoë \u202e <script>".encode()
    await cache.set("admin:record:one", value, ttl_seconds=30)
    assert await cache.get("admin:record:one") == value
    await cache.set("admin:record:one", b"", ttl_seconds=30)
    assert await cache.get("admin:record:one") == b""


async def test_set_overwrites(cache: ReadCache) -> None:
    await cache.set("k", b"first", ttl_seconds=30)
    await cache.set("k", b"second", ttl_seconds=30)
    assert await cache.get("k") == b"second"


async def test_a_value_expires_at_its_ttl_and_reading_does_not_extend_it(
    cache: ReadCache,
) -> None:
    # Two seconds, so the first read lands well inside the TTL even on a loaded CI machine.
    await cache.set("short", b"v", ttl_seconds=2.0)
    await cache.set("long", b"v", ttl_seconds=30)
    await asyncio.sleep(0.3)
    assert await cache.get("short") == b"v"
    await asyncio.sleep(1.9)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"v"


async def test_a_new_set_restarts_the_ttl_it_is_given(cache: ReadCache) -> None:
    await cache.set("k", b"v", ttl_seconds=30)
    await cache.set("k", b"v2", ttl_seconds=0.2)
    await asyncio.sleep(0.35)
    assert await cache.get("k") is None


async def test_delete_drops_every_key_named_and_ignores_missing_ones(cache: ReadCache) -> None:
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), ttl_seconds=30)
    await cache.delete("a", "b", "never-set")
    await cache.delete()
    assert [await cache.get(key) for key in ("a", "b", "c")] == [None, None, b"c"]


async def test_keys_are_exact_strings(cache: ReadCache) -> None:
    await cache.set("admin:record:CL-1", b"one", ttl_seconds=30)
    assert await cache.get("admin:record:CL-1*") is None
    assert await cache.get("admin:record:cl-1") is None
    await cache.delete("admin:record:*")
    assert await cache.get("admin:record:CL-1") == b"one"


async def test_ping_answers_when_up(cache: ReadCache) -> None:
    await cache.ping()


# -- adapter specifics ----------------------------------------------------------------------


async def test_memory_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache = MemoryReadCache(max_entries=2)
    await cache.set("a", b"a", 30)
    await cache.set("b", b"b", 30)
    assert await cache.get("a") == b"a"  # a is now the most recently used
    await cache.set("c", b"c", 30)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"a" and await cache.get("c") == b"c"
    assert len(cache) == 2


async def test_memory_cache_expiry_follows_its_clock() -> None:
    now = [1000.0]
    cache = MemoryReadCache(clock=lambda: now[0])
    await cache.set("k", b"v", ttl_seconds=60)
    now[0] += 59.9
    assert await cache.get("k") == b"v"
    now[0] += 0.2
    assert await cache.get("k") is None
    assert len(cache) == 0


async def test_no_cache_remembers_nothing() -> None:
    cache = NoReadCache()
    await cache.set("k", b"v", 30)
    assert await cache.get("k") is None
    await cache.delete("k")
    await cache.ping()


async def test_redis_values_carry_the_ttl_on_the_server(redis_server: RedisServer) -> None:
    redis_server.flush()
    cache = RedisReadCache.from_url(redis_server.url)
    try:
        await cache.set("k", b"v", ttl_seconds=60)
    finally:
        await cache.close()
    with redis_server.client() as raw:
        assert 59_000 < raw.pttl("k") <= 60_000


async def test_a_wrong_password_is_unavailable_and_says_nothing_of_the_secret(
    redis_server: RedisServer,
) -> None:
    url = redis_server.url.replace(redis_server.password, "not-the-password")
    cache = RedisReadCache.from_url(url)
    try:
        with pytest.raises(CacheUnavailable) as raised:
            await cache.get("k")
        assert "not-the-password" not in str(raised.value)
        assert redis_server.password not in str(raised.value)
    finally:
        await cache.close()


async def test_a_tls_client_that_does_not_trust_the_certificate_is_refused(
    redis_server: RedisServer,
) -> None:
    cache = RedisReadCache.from_url(redis_server.tls_url.split("?")[0])
    try:
        with pytest.raises(CacheUnavailable):
            await cache.ping()
    finally:
        await cache.close()


async def test_an_unreachable_redis_fails_fast_as_unavailable(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        cache = RedisReadCache.from_url(server.url)
        await cache.set("k", b"v", 30)
        server.stop()
        try:
            for call in (cache.get("k"), cache.set("k", b"v", 30), cache.delete("k"), cache.ping()):
                started = time.monotonic()
                with pytest.raises(CacheUnavailable):
                    await call
                assert time.monotonic() - started < 2
        finally:
            await cache.close()


async def test_open_cache_builds_what_the_settings_name(redis_server: RedisServer) -> None:
    memory = await open_cache(ReadCacheSettings(environment="test"))
    assert isinstance(memory, MemoryReadCache)
    none = await open_cache(ReadCacheSettings(environment="prod"))
    assert isinstance(none, NoReadCache)
    redis_cache = await open_cache(
        ReadCacheSettings(environment="prod", cache="redis", redis_url=redis_server.url)
    )
    try:
        assert isinstance(redis_cache, RedisReadCache)
        await redis_cache.set("opened", b"yes", 5)
        assert await redis_cache.get("opened") == b"yes"
    finally:
        await redis_cache.close()
