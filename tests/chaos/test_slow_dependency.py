"""intake-api hangs: the UI times out, opens its breaker and then fails fast, and keeps serving
every other page meanwhile. The UI runs with its default timeouts, retries and breaker."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from chaos_kit import (
    COMPANY_FORM,
    ENGAGEMENT_FORM,
    LOCAL,
    HangingServer,
    Stack,
    alert_text,
    form_submission,
    free_ports,
)

pytestmark = pytest.mark.chaos

# The UI's defaults: 3 attempts of at most 5 s each, given up after 15 s; the breaker opens
# after 5 failed calls. A visitor before the breaker opens waits at most this long:
SLOW_ANSWER_SECONDS = 20.0
# Once it is open, an answer must not wait for intake-api at all.
FAST_ANSWER_SECONDS = 2.0
BREAKER_FAILURES = 5


@dataclass(frozen=True)
class Sent:
    status: int
    message: str
    seconds: float


def send_request(ui: str) -> Sent:
    """One visitor: fills in both steps (no call to intake-api), then presses Send."""
    with httpx.Client(base_url=ui, timeout=60, follow_redirects=False) as browser:
        action, values = form_submission(browser.get("/").text)
        step_two = browser.post(action, data={**values, **COMPANY_FORM})
        assert step_two.status_code == 200
        action, values = form_submission(step_two.text)
        started = time.monotonic()
        answer = browser.post(action, data={**values, **ENGAGEMENT_FORM})
        return Sent(answer.status_code, alert_text(answer.text), time.monotonic() - started)


def page_times(ui: str, until: threading.Event) -> list[float]:
    """Another visitor reading pages while the submissions hang."""
    times = []
    with httpx.Client(base_url=ui, timeout=30) as reader:
        while not until.is_set():
            for path in ("/", "/privacy", "/status"):
                started = time.monotonic()
                assert reader.get(path).status_code == 200, path
                times.append(time.monotonic() - started)
            time.sleep(0.2)
    return times


def test_hanging_intake_api_times_out_then_the_breaker_fails_fast_and_pages_stay_up(
    stack: Stack,
) -> None:
    (ui_port,) = free_ports(1)
    with HangingServer() as hanging:
        stack.ui(ui_port, hanging.url).start()
        ui = f"{LOCAL}:{ui_port}"

        done = threading.Event()
        with ThreadPoolExecutor(BREAKER_FAILURES + 1) as pool:
            reading = pool.submit(page_times, ui, done)
            first = list(pool.map(lambda _: send_request(ui), range(BREAKER_FAILURES)))
            done.set()
            reads = reading.result(timeout=30)
        offered_while_closed = hanging.connections

        with ThreadPoolExecutor(20) as pool:
            later = list(pool.map(lambda _: send_request(ui), range(20)))
        offered_while_open = hanging.connections - offered_while_closed

    for sent in first + later:
        assert sent.status == 503, sent
        assert "not responding" in sent.message and "answers are kept" in sent.message
    assert max(sent.seconds for sent in first) <= SLOW_ANSWER_SECONDS, first
    assert offered_while_closed >= BREAKER_FAILURES, "each waiting visitor tried intake-api"
    assert max(sent.seconds for sent in later) <= FAST_ANSWER_SECONDS, sorted(
        round(sent.seconds, 2) for sent in later
    )
    assert offered_while_open == 0, "an open breaker must not call intake-api"
    assert reads and max(reads) <= FAST_ANSWER_SECONDS, sorted(reads)[-5:]
