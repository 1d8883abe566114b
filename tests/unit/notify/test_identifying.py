"""The worker's log lines about a delivery name its message and, when it has a valid one, its trace."""

from __future__ import annotations

import pytest

from intake_core.ports.queue import Delivery
from intake_notify.worker import identifying

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _delivery(properties: dict[str, str]) -> Delivery:
    return Delivery("m-1", "{}", 1, "lock", properties)


def test_a_traceparent_gives_the_trace_id() -> None:
    assert identifying(_delivery({"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})) == {
        "message_id": "m-1",
        "trace_id": TRACE,
    }


@pytest.mark.parametrize(
    "traceparent", ["", "garbage", f"01-{TRACE}-00f067aa0ba902b7-01", "00-abc-def-01", "00"]
)
def test_without_a_valid_traceparent_only_the_message_is_named(traceparent: str) -> None:
    assert identifying(_delivery({"traceparent": traceparent})) == {"message_id": "m-1"}


def test_a_delivery_without_properties_is_named_by_its_message() -> None:
    assert identifying(_delivery({})) == {"message_id": "m-1"}
