"""The store and the bus go away under the whole platform, started the way ``make run`` starts it.

"Unavailable" is real here: the test process takes SQLite's write lock on the file the services
use (``BEGIN EXCLUSIVE``) and holds it, exactly what a stuck writer or a wedged disk looks like
to them. Root ignores file permissions, so a lock is the fault that actually bites.

The bus test runs last in this module: if a process dies of the outage, ``intake run`` stops
the whole platform, and the tests before it would have nothing left to test.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from chaos_kit import (
    COMPANY_FORM,
    ENGAGEMENT_FORM,
    alert_text,
    client_id_in,
    exclusive_lock,
    form_submission,
    free_ports,
    mail_files,
    platform_environment,
    scrape,
    stored_client_ids,
    wait_until,
)

from support.process_tree import interrupt_tree

pytestmark = pytest.mark.chaos

# intake-api must answer a store outage before the UI's own request timeout (5 s by default)
# gives up on it: a 503 with Retry-After, not a hang.
STORE_DOWN_ANSWER_SECONDS = 5.0
# Several times the services' SQLite busy timeout (2 s), so each of them sees the outage.
BUS_OUTAGE_SECONDS = 15.0
# The fast-path publish runs after the answer, so a bus outage does not slow submissions.
BUS_DOWN_ANSWER_SECONDS = 3.0


@dataclass
class RunningPlatform:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    ui: str
    intake_api: str
    notify_metrics: str

    @property
    def store(self) -> Path:
        return self.data_dir / "intake.db"

    @property
    def queue(self) -> Path:
        return self.data_dir / "queue.db"

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, characters: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """``intake run`` on free ports with its data in a temp folder (file mailer: ``mail/``)."""
    data_dir = tmp_path_factory.mktemp("outages")
    ui, intake_api, admin_api, notify = free_ports(4)
    log = data_dir / "platform.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "intake_core.cli", "run",
             "--ports", f"{ui},{intake_api},{admin_api},{notify}"],
            # The store's breaker opens during the outages below; a short cool-down keeps the
            # test short (production: 15 s).
            env=platform_environment(data_dir, STORE_BREAKER_RESET_SECONDS="2"),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    local = "http://127.0.0.1"
    running = RunningPlatform(
        process, data_dir, log, f"{local}:{ui}", f"{local}:{intake_api}", f"{local}:{notify}"
    )
    try:
        wait_until(
            lambda: "is running" in log.read_text(errors="replace") or not running.running(),
            within=120,
            what="intake run to start",
        )
        assert running.running(), f"the platform did not start:\n{running.log_tail()}"
        yield running
    finally:
        if running.running():
            interrupt_tree(process, grace=30)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer at all within the client's timeout
    headers: httpx.Headers
    body: dict[str, Any]
    seconds: float


def post_submission(base_url: str, body: dict[str, Any], timeout: float = 45) -> Answer:
    started = time.monotonic()
    try:
        response = httpx.post(f"{base_url}/v1/submissions", json=body, timeout=timeout)
    except httpx.TimeoutException:
        return Answer(None, httpx.Headers(), {}, time.monotonic() - started)
    return Answer(
        response.status_code, response.headers, response.json(), time.monotonic() - started
    )


def at_least(wanted: float, value: float | None) -> float | None:
    return value if value is not None and value >= wanted else None


def test_store_down_answers_503_with_retry_after_within_seconds(
    platform: RunningPlatform, body: dict[str, Any]
) -> None:
    with exclusive_lock(platform.store), ThreadPoolExecutor(2) as clients:
        answers = list(clients.map(lambda _: post_submission(platform.intake_api, body), range(2)))

    for answer in answers:
        assert answer.status == 503, f"{answer.status} after {answer.seconds:.1f} s"
        assert answer.headers["content-type"] == "application/problem+json"
        assert int(answer.headers["retry-after"]) >= 1
        assert "try again" in answer.body["detail"]
    unavailable = scrape(f"{platform.intake_api}/metrics", "intake_submissions_total",
                         outcome="unavailable")  # fmt: skip
    assert unavailable is not None and unavailable >= 2
    # Two visitors at once: neither may wait longer than the UI is willing to.
    waits = sorted(round(answer.seconds, 1) for answer in answers)
    assert waits[-1] <= STORE_DOWN_ANSWER_SECONDS, (
        f"with the store down, two concurrent submissions got their 503 after {waits} s;"
        f" the UI gives up after 5 s, so visitors see a timeout instead of Retry-After"
    )


def test_ui_keeps_what_was_typed_while_the_store_is_down_then_sends_it_without_restart(
    platform: RunningPlatform, body: dict[str, Any]
) -> None:
    with httpx.Client(base_url=platform.ui, timeout=60, follow_redirects=False) as browser:
        action, values = form_submission(browser.get("/").text)
        step_two = browser.post(action, data={**values, **COMPANY_FORM})
        assert step_two.status_code == 200, step_two.text[-500:]
        action, values = form_submission(step_two.text)
        typed = {**values, **ENGAGEMENT_FORM}
        before = stored_client_ids(platform.data_dir)

        with exclusive_lock(platform.store):
            refused = browser.post(action, data=typed)

        assert refused.status_code == 503
        message = alert_text(refused.text)
        assert "not responding" in message and "answers are kept" in message, message
        again, kept = form_submission(refused.text)
        for name, value in {**COMPANY_FORM, **ENGAGEMENT_FORM}.items():
            assert kept.get(name) == value, name
        assert kept["idempotencyKey"] == typed["idempotencyKey"], "a resend must reuse the key"

        # The store is back: the visitor presses "Send request" on the page as it was shown,
        # and again a moment later if told so (the store's breaker may still be cooling down).
        sent = browser.post(again, data=kept)
        deadline = time.monotonic() + 10
        while sent.status_code == 503 and time.monotonic() < deadline:
            time.sleep(1)
            again, kept = form_submission(sent.text)
            sent = browser.post(again, data=kept)

    assert sent.status_code in (302, 303), alert_text(sent.text)
    match = re.search(r"/submitted/(CL-[0-9A-Z-]+)$", sent.headers["location"])
    assert match, sent.headers["location"]
    # However many of the UI's retries reached intake-api, they made one record.
    assert stored_client_ids(platform.data_dir) - before == {match.group(1)}

    direct = post_submission(platform.intake_api, body)
    assert direct.status == 201 and direct.seconds < 5, direct
    assert platform.running(), f"a service died of the outage:\n{platform.log_tail()}"
    emailed = wait_until(
        lambda: (
            (ids := {client_id_in(m.subject) for m in mail_files(platform.data_dir)})
            >= stored_client_ids(platform.data_dir)
            and ids
        ),
        within=60,
        what="an email for every stored submission",
    )
    assert emailed == stored_client_ids(platform.data_dir)


def test_bus_down_submissions_still_succeed_and_every_email_follows_once(
    platform: RunningPlatform, body: dict[str, Any]
) -> None:
    metrics = f"{platform.intake_api}/metrics"
    worker_metrics = f"{platform.notify_metrics}/metrics"
    wait_until(lambda: scrape(metrics, "intake_outbox_backlog") == 0, within=60,
               what="an empty outbox before the outage")  # fmt: skip
    wait_until(
        lambda: (
            {client_id_in(m.subject) for m in mail_files(platform.data_dir)}
            >= stored_client_ids(platform.data_dir)
        ),
        within=60,
        what="every earlier email to go out before the outage",
    )
    sent_before = scrape(worker_metrics, "notify_messages_total", outcome="sent") or 0.0
    submissions = 5

    with exclusive_lock(platform.queue):
        outage_started = time.monotonic()
        answers = [post_submission(platform.intake_api, body) for _ in range(submissions)]
        backlog = wait_until(
            lambda: at_least(submissions, scrape(metrics, "intake_outbox_backlog")),
            within=10,
            what="the outbox backlog to show the waiting events",
        )
        time.sleep(max(0.0, BUS_OUTAGE_SECONDS - (time.monotonic() - outage_started)))

    assert [answer.status for answer in answers] == [201] * submissions
    slowest = max(answer.seconds for answer in answers)
    assert slowest <= BUS_DOWN_ANSWER_SECONDS, f"a submission took {slowest:.1f} s"
    assert backlog >= submissions
    created = {answer.body["clientId"] for answer in answers}

    # `intake run` stops every service when one exits, so a death shows as a stopped platform.
    wait_until(
        lambda: not platform.running() or scrape(metrics, "intake_outbox_backlog") == 0,
        within=60,
        what="the outbox to drain once the bus is back",
    )
    assert platform.running(), (
        f"the platform stopped: a service died of a {BUS_OUTAGE_SECONDS:.0f} s bus outage:\n"
        f"{platform.log_tail()}"
    )
    wait_until(
        lambda: created <= {client_id_in(m.subject) for m in mail_files(platform.data_dir)},
        within=60,
        what="an email for every submission made while the bus was down",
    )
    files = mail_files(platform.data_dir)
    assert len({m.message_id for m in files}) == len(files)
    # The file mailer overwrites a resend; the worker's own count shows each went once.
    sent = scrape(worker_metrics, "notify_messages_total", outcome="sent")
    assert sent is not None and sent - sent_before == submissions
