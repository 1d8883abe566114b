"""The store's circuit breaker: what opens it, what it answers while open, how it closes."""

from __future__ import annotations

import time

import pytest

from intake_core.ports import IdempotencyConflict, StoreUnavailable
from intake_core.store_breaker import StoreBreaker


def fail_through(breaker: StoreBreaker, error: Exception) -> None:
    with pytest.raises(type(error)), breaker.guarding():
        raise error


def test_opens_after_failures_in_a_row_then_refuses_without_calling() -> None:
    breaker = StoreBreaker(failures=3, reset_seconds=60)
    for _ in range(3):
        fail_through(breaker, StoreUnavailable("locked"))
    assert breaker.is_open
    called = False
    with pytest.raises(StoreUnavailable, match="circuit breaker is open"), breaker.guarding():
        called = True
    assert not called
    assert 55 <= breaker.retry_after_seconds(default=5) <= 60


def test_a_success_in_between_resets_the_count() -> None:
    breaker = StoreBreaker(failures=2, reset_seconds=60)
    fail_through(breaker, StoreUnavailable("locked"))
    with breaker.guarding():
        pass
    fail_through(breaker, StoreUnavailable("locked"))
    assert not breaker.is_open
    assert breaker.retry_after_seconds(default=5) == 5


def test_client_errors_do_not_count_against_the_store() -> None:
    breaker = StoreBreaker(failures=1, reset_seconds=60)
    fail_through(breaker, IdempotencyConflict("key"))
    fail_through(breaker, ValueError("unknown privacy notice"))
    assert not breaker.is_open


def test_after_the_cool_down_one_good_call_closes_it() -> None:
    breaker = StoreBreaker(failures=1, reset_seconds=0.2)
    fail_through(breaker, StoreUnavailable("locked"))
    assert breaker.is_open
    time.sleep(0.25)
    with breaker.guarding():
        pass
    assert not breaker.is_open
