"""The circuit breaker every service puts in front of a dependency it waits on.

After ``failures`` counted failures in a row the breaker opens: each call is refused at once
(``refused``, :class:`BreakerOpen` unless the caller names its own "unavailable" error) until
``reset_seconds`` have passed. Then calls go through again as trials, and the first to finish
decides: a success closes the breaker, a failure opens it for another cool-down. ``counts``
says which errors count as failures (by default every ``Exception``); any other error passes
through as the dependency answering, like a success. A cancelled call never counts (pybreaker
would count it): the caller gave up (a process stopping, a download stopped half way, a
deadline of the caller's own), not the dependency, and counting it would refuse every caller
for a cool-down with the dependency healthy.

A failure is always raised as itself, the one that opens the breaker included: the refusal is
raised only when the breaker did not try the call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pybreaker


class BreakerOpen(Exception):
    """The breaker refused the call: its dependency failed too often, too recently."""


class Breaker:
    def __init__(
        self,
        name: str,
        failures: int,
        reset_seconds: float,
        *,
        counts: tuple[type[BaseException], ...] = (Exception,),
        refused: Callable[[str], Exception] = BreakerOpen,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._refused = refused
        # Our own storage, so the cool-down is read from the breaker's clock, not a copy of it.
        self._state = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=failures,
            reset_timeout=reset_seconds,
            exclude=[_none_of(counts)],
            state_storage=self._state,
            throw_new_error_on_trip=False,
            listeners=[] if on_open is None else [_Opening(on_open)],
            name=name,
        )

    @contextmanager
    def guarding(self) -> Iterator[None]:
        """Run the block through the breaker; while it is open, raise ``refused`` at once."""
        try:
            with self._breaker.calling():
                yield
        except pybreaker.CircuitBreakerError as error:
            raise self._refused(f"the {self.name} circuit breaker is open") from error

    @property
    def is_open(self) -> bool:
        """Open, its cool-down passed or not (pybreaker moves to half-open only on a call)."""
        return bool(self._breaker.current_state == pybreaker.STATE_OPEN)

    def admits(self, wanted: int = 1) -> int:
        """How much work a consumer may take now: all it wants while closed, none while open
        and cooling down, one to try once the cool-down has passed (the consumer waits for
        that trial before asking again)."""
        if self._breaker.current_state == pybreaker.STATE_CLOSED:
            return wanted
        return 0 if self._cooldown_left() > 0 else 1

    def retry_after(self, default: int) -> int:
        """Whole seconds until the breaker lets a trial through, or ``default`` when it is
        not open: what a ``Retry-After`` header says."""
        if not self.is_open:
            return default
        return max(1, math.ceil(self._cooldown_left()))

    def _cooldown_left(self) -> float:
        opened_at = self._state.opened_at
        if not self.is_open or opened_at is None:
            return 0.0
        ends = opened_at + timedelta(seconds=self._breaker.reset_timeout)
        return max(0.0, (ends - datetime.now(UTC)).total_seconds())


def _none_of(counts: tuple[type[BaseException], ...]) -> Callable[[BaseException], bool]:
    return lambda error: not isinstance(error, counts)


class _Opening(pybreaker.CircuitBreakerListener):
    def __init__(self, on_open: Callable[[], None]) -> None:
        self._on_open = on_open

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        if new_state is not None and new_state.name == pybreaker.STATE_OPEN:
            self._on_open()
