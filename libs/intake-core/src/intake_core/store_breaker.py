"""A circuit breaker in front of the store, for the calls a request waits on (both APIs).

When the store keeps failing (locked, unreachable, throttled past the SDK's own retries), every
request would still wait out its timeout before answering 503. After ``failures`` such errors in
a row the breaker opens: requests get 503 with ``Retry-After`` at once, readiness reports it so
the load balancer sends traffic elsewhere, and after ``reset_seconds`` one trial call decides
whether to close again. Only ``StoreUnavailable`` counts; a client's own mistakes (an idempotency
conflict, an unknown consent version) say nothing about the store's health.

The outbox relay does not go through it: it has its own backoff and never gives up.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import pybreaker

from intake_core.ports import StoreUnavailable


def cooldown_left(breaker: pybreaker.CircuitBreaker, opened_at: datetime | None) -> float:
    """Seconds until an open ``breaker`` lets a trial call through; 0 when it is not open or
    its cool-down has passed. pybreaker only moves to half-open when a call is tried, hence
    the clock."""
    if breaker.current_state != pybreaker.STATE_OPEN or opened_at is None:
        return 0.0
    ends = opened_at + timedelta(seconds=breaker.reset_timeout)
    return max(0.0, (ends - datetime.now(UTC)).total_seconds())


def admitted(breaker: pybreaker.CircuitBreaker, opened_at: datetime | None, wanted: int) -> int:
    """How much work a consumer may take from behind ``breaker``: all it wants while closed,
    none while open and cooling down, one to try once the cool-down has passed (the consumer
    waits for that trial before asking again)."""
    if breaker.current_state == pybreaker.STATE_CLOSED:
        return wanted
    return 0 if cooldown_left(breaker, opened_at) > 0 else 1


def _not_a_store_failure(error: BaseException) -> bool:
    return not isinstance(error, StoreUnavailable)


class StoreBreaker:
    def __init__(self, failures: int = 5, reset_seconds: float = 15.0) -> None:
        self._state = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset_seconds,
            exclude=[_not_a_store_failure],
            state_storage=self._state,
            name="store",
        )

    @contextmanager
    def guarding(self) -> Iterator[None]:
        """Run the block through the breaker; while it is open, fail at once."""
        try:
            with self._breaker.calling():
                yield
        except pybreaker.CircuitBreakerError as error:
            raise StoreUnavailable("the store's circuit breaker is open") from error

    @property
    def is_open(self) -> bool:
        return bool(self._breaker.current_state == pybreaker.STATE_OPEN)

    def admits(self, wanted: int) -> int:
        """For a consumer (the notifier): how many messages it may take now."""
        return admitted(self._breaker, self._state.opened_at, wanted)

    def retry_after_seconds(self, default: int) -> int:
        """Until the breaker lets a trial call through, or ``default`` when it is closed."""
        if not self.is_open:
            return default
        return max(1, math.ceil(cooldown_left(self._breaker, self._state.opened_at)))


S = TypeVar("S")


class _GuardedStore:
    def __init__(self, store: object, breaker: StoreBreaker) -> None:
        self._store = store
        self._breaker = breaker

    def __getattr__(self, name: str) -> Any:
        """Called once per name: the wrapper is kept on the instance, so later calls find it
        without coming here (and without building it again per request)."""
        attribute = getattr(self._store, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        store, breaker = self._store, self._breaker

        @functools.wraps(attribute)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            with breaker.guarding():
                # Looked up per call, so the store's method is whatever it is now.
                return await getattr(store, name)(*args, **kwargs)

        setattr(self, name, guarded)
        return guarded


def guarded_store(store: S, breaker: StoreBreaker) -> S:
    """``store`` with each of its coroutine methods called through ``breaker``: for a service
    whose every route reads or writes the store (admin-api), rather than guarding each call."""
    return cast(S, _GuardedStore(store, breaker))
