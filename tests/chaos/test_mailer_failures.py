"""The mail relay fails: bounded retries, the breaker, the dead-letter queue and its replay."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest
from chaos_kit import (
    LOCAL,
    SmtpSink,
    Stack,
    dead_lettered,
    free_ports,
    query,
    run_cli,
    scrape,
    wait_until,
)

pytestmark = pytest.mark.chaos

# LocalQueue's default, which bootstrap.open_queue does not let configuration change.
MAX_DELIVERIES = 10
BREAKER_RESET_SECONDS = 3.0
OPEN_WINDOW_SECONDS = 7.0


def create(base_url: str, body: dict[str, Any], count: int) -> list[str]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        answers = [client.post("/v1/submissions", json=body) for _ in range(count)]
    assert [answer.status_code for answer in answers] == [201] * count
    return [answer.json()["clientId"] for answer in answers]


def waiting_messages(stack: Stack) -> list[tuple[int, Any]]:
    """(delivery count, dead-lettered at) of every message still in the queue."""
    return query(
        stack.data_dir / "queue.db", "SELECT delivery_count, dead_lettered_at FROM messages"
    )


def test_failing_mailer_retries_then_dead_letters_and_a_replay_sends_each_once(
    stack: Stack, body: dict[str, Any], smtp_sink: SmtpSink
) -> None:
    api_port, metrics_port = free_ports(2)
    worker_metrics = f"{LOCAL}:{metrics_port}/metrics"
    smtp_sink.failing = True
    stack.intake_api(api_port).start()
    # A breaker that never opens: each message burns its deliveries, as it would if the relay
    # rejected this message only (a bad recipient, a policy block).
    stack.worker(metrics_port, **smtp_sink.environment(),
                 MAIL_ATTEMPTS="2", MAIL_BREAKER_FAILURES="1000").start()  # fmt: skip
    created = create(f"{LOCAL}:{api_port}", body, 3)

    wait_until(lambda: dead_lettered(stack.data_dir) == len(created), within=90,
               what="every message to reach the dead-letter queue")  # fmt: skip
    # Each delivery tried the relay MAIL_ATTEMPTS times (tenacity), then the queue redelivered.
    assert smtp_sink.refused == len(created) * MAX_DELIVERIES * 2
    assert smtp_sink.snapshot() == []
    # Every delivery but the last is abandoned for a retry; the worker dead-letters the last one
    # itself, so the NotifyDeadLetters alert sees it.
    retried = scrape(worker_metrics, "notify_messages_total", outcome="retried")
    assert retried == len(created) * (MAX_DELIVERIES - 1)
    dead = scrape(worker_metrics, "notify_messages_total", outcome="dead_lettered")
    assert dead == len(created)

    listed = run_cli(stack.data_dir, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == len(created)
    assert all(line.split("\t")[1:3] == [str(MAX_DELIVERIES), "MaxDeliveryCountExceeded"]
               for line in lines), lines  # fmt: skip
    assert "3 dead-lettered message(s)" in listed.stderr

    smtp_sink.failing = False
    replayed = run_cli(stack.data_dir, "dlq", "replay")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.startswith(f"replayed {len(created)} message(s)")
    wait_until(
        lambda: {r.client_id for r in smtp_sink.snapshot()} >= set(created),
        within=30,
        what="the replayed messages to be sent",
    )
    wait_until(lambda: not waiting_messages(stack), within=30, what="the queue to empty")
    assert Counter(r.client_id for r in smtp_sink.snapshot()) == dict.fromkeys(created, 1)
    assert run_cli(stack.data_dir, "dlq", "list").stdout == ""

    # The NotifyDeadLetters alert counts notify_messages_total{outcome="dead_lettered"}.
    dead = scrape(worker_metrics, "notify_messages_total", outcome="dead_lettered")
    assert dead == len(created), (
        f"{len(created)} messages were dead-lettered after {MAX_DELIVERIES} deliveries, yet the"
        f" worker's notify_messages_total{{outcome='dead_lettered'}} is {dead}: the alert on it"
        " never fires for the queue's own dead-lettering"
    )


def test_mail_relay_down_opens_the_breaker_and_messages_wait_in_the_queue(
    stack: Stack, body: dict[str, Any], smtp_sink: SmtpSink
) -> None:
    api_port, metrics_port = free_ports(2)
    smtp_sink.failing = True
    stack.intake_api(api_port).start()
    stack.worker(metrics_port, **smtp_sink.environment(), MAIL_ATTEMPTS="1",
                 MAIL_BREAKER_FAILURES="2",
                 MAIL_BREAKER_RESET_SECONDS=str(BREAKER_RESET_SECONDS)).start()  # fmt: skip
    created = create(f"{LOCAL}:{api_port}", body, 3)

    wait_until(lambda: smtp_sink.refused >= 2, within=30, what="the relay to refuse twice")
    time.sleep(0.5)  # the calls in flight when the breaker opened settle
    deliveries_before = sum(count for count, _ in waiting_messages(stack))
    refused_before = smtp_sink.refused
    time.sleep(OPEN_WINDOW_SECONDS)
    waiting = waiting_messages(stack)
    burned = sum(count for count, _ in waiting) - deliveries_before
    tried = smtp_sink.refused - refused_before

    assert len(waiting) == len(created)
    assert all(dead_at is None for _, dead_at in waiting), waiting

    smtp_sink.failing = False
    wait_until(
        lambda: {r.client_id for r in smtp_sink.snapshot()} >= set(created),
        within=45,
        what="the waiting messages to be sent once the relay is back",
    )
    wait_until(lambda: not waiting_messages(stack), within=30, what="the queue to empty")
    assert Counter(r.client_id for r in smtp_sink.snapshot()) == dict.fromkeys(created, 1)

    # One trial per cool-down while the breaker is open: the rest wait without being delivered.
    trials = int(OPEN_WINDOW_SECONDS // BREAKER_RESET_SECONDS) + 1
    assert burned <= trials and tried <= trials, (
        f"in {OPEN_WINDOW_SECONDS:.0f} s of open breaker (cool-down {BREAKER_RESET_SECONDS:.0f} s)"
        f" {burned} deliveries were spent and the relay was called {tried} times; at most"
        f" {trials} trials were expected: every waiting message joins the half-open trial"
    )
