"""The circuit breaker every service uses, and the store behind it: what opens it, what it
answers while open, how it closes, and that every store call goes through it."""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.breakers import Breaker, BreakerOpen
from intake_core.guarded_store import GuardedIntakeStore, GuardedStaffStore, store_breaker
from intake_core.ports.intake import IdempotencyConflict, IntakeStore
from intake_core.ports.staff import StaffSubmissionStore
from intake_core.ports.store import StoreUnavailable


def fail_through(breaker: Breaker, error: Exception) -> None:
    with pytest.raises(type(error)), breaker.guarding():
        raise error


def test_opens_after_failures_in_a_row_then_refuses_without_calling() -> None:
    breaker = store_breaker(failures=3, reset_seconds=60)
    for _ in range(3):
        fail_through(breaker, StoreUnavailable("locked"))  # the third, that opens it, too
    assert breaker.is_open
    called = False
    with pytest.raises(StoreUnavailable, match="circuit breaker is open"), breaker.guarding():
        called = True
    assert not called
    assert 55 <= breaker.retry_after(default=5) <= 60


def test_a_success_in_between_resets_the_count() -> None:
    breaker = store_breaker(failures=2, reset_seconds=60)
    fail_through(breaker, StoreUnavailable("locked"))
    with breaker.guarding():
        pass
    fail_through(breaker, StoreUnavailable("locked"))
    assert not breaker.is_open
    assert breaker.retry_after(default=5) == 5


def test_client_errors_do_not_count_against_the_store() -> None:
    breaker = store_breaker(failures=1, reset_seconds=60)
    fail_through(breaker, IdempotencyConflict("key"))
    fail_through(breaker, ValueError("unknown privacy notice"))
    assert not breaker.is_open


def test_after_the_cool_down_one_good_call_closes_it() -> None:
    breaker = store_breaker(failures=1, reset_seconds=0.2)
    fail_through(breaker, StoreUnavailable("locked"))
    assert breaker.is_open
    time.sleep(0.25)
    with breaker.guarding():
        pass
    assert not breaker.is_open


def test_a_consumer_takes_nothing_while_open_then_one_trial() -> None:
    # A cool-down of a second: "none while open" must be read inside it on a loaded machine.
    breaker = Breaker("mailer", failures=1, reset_seconds=1.0)
    assert breaker.admits(8) == 8
    fail_through(breaker, ConnectionError("relay down"))
    assert breaker.admits(8) == 0
    with pytest.raises(BreakerOpen, match="the mailer circuit breaker is open"), breaker.guarding():
        pass
    time.sleep(1.05)
    assert breaker.admits(8) == 1
    fail_through(breaker, ConnectionError("still down"))  # the trial fails: another cool-down
    assert breaker.admits(8) == 0


async def test_a_cancelled_call_does_not_count() -> None:
    """The caller gave up (the process is stopping, say), not the dependency: a breaker that
    counted it would refuse everyone for a cool-down with the dependency healthy."""
    breaker = Breaker("intake-api", failures=1, reset_seconds=60)
    entered = asyncio.Event()

    async def waiting_for_an_answer() -> None:
        with breaker.guarding():
            entered.set()
            await asyncio.Event().wait()

    for _ in range(3):
        call = asyncio.create_task(waiting_for_an_answer())
        await entered.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        entered.clear()
    assert not breaker.is_open
    fail_through(breaker, ConnectionError("down"))  # a failure still does
    assert breaker.is_open


def test_on_open_is_told_once_per_opening() -> None:
    openings = []
    breaker = Breaker("bus", failures=2, reset_seconds=60, on_open=lambda: openings.append(1))
    fail_through(breaker, ConnectionError("down"))
    assert openings == []
    fail_through(breaker, ConnectionError("down"))
    assert openings == [1]


@pytest.mark.parametrize(
    ("port", "guarded"),
    [(IntakeStore, GuardedIntakeStore), (StaffSubmissionStore, GuardedStaffStore)],
)
def test_the_guarded_store_guards_every_call_of_the_port(port: type, guarded: type) -> None:
    """A method added to the port must be added here too (mypy says so as well)."""

    def calls(kind: type) -> set[str]:
        return {
            name for name, member in inspect.getmembers(kind) if inspect.iscoroutinefunction(member)
        }

    assert calls(port) - calls(guarded) == set()


async def test_an_open_breaker_answers_without_calling_the_store(tmp_path) -> None:
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    calls = 0

    async def down(_: str) -> None:
        nonlocal calls
        calls += 1
        raise StoreUnavailable("locked")

    store.get_record = down  # type: ignore[method-assign]
    guarded = GuardedStaffStore(store, store_breaker(failures=2, reset_seconds=60))
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            await guarded.get_record("C-1")
    assert calls == 2
    with pytest.raises(StoreUnavailable, match="circuit breaker is open"):
        await guarded.ping()  # every call is refused, not only the failing one
    await store.close()
