"""The per-client token bucket, on a clock the test moves."""

from __future__ import annotations

from intake_api.rate_limit import RateLimiter, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_a_burst_then_refuses_with_the_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, clock=clock)

    assert [limiter.acquire("10.0.0.1") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("10.0.0.1")

    assert wait is not None and 19.9 < wait <= 20.0  # one token every 20 s
    assert retry_after_header(wait) == "20"


def test_refills_over_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, clock=clock)
    for _ in range(60):
        assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None

    clock.now += 1.0
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None


def test_clients_are_limited_separately() -> None:
    limiter = RateLimiter(per_minute=1, clock=FakeClock())
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None
    assert limiter.acquire("b") is None


def test_memory_stays_bounded() -> None:
    limiter = RateLimiter(per_minute=1, max_clients=100, clock=FakeClock())
    for n in range(1000):
        limiter.acquire(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) == 100


def test_retry_after_is_at_least_one_second() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
