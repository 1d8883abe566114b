"""How many messages the notifier handles at once, by mailer, unless configured; how long its
receive loop may stand still before /healthz fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from intake_notify.settings import NotifySettings
from intake_notify.worker import RECEIVE_BACKOFF_MAX_SECONDS


@pytest.mark.parametrize(
    ("mailer", "extra", "expected"),
    [
        ("file", {}, 32),
        ("smtp", {"smtp_host": "relay.example"}, 8),
        ("acs", {"acs_endpoint": "https://mail.example.communication.azure.com"}, 8),
    ],
)
def test_the_default_follows_the_mailer(
    tmp_path: Path, mailer: str, extra: dict[str, str], expected: int
) -> None:
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, mailer=mailer, **extra)
    assert settings.handled_at_once == expected


@pytest.mark.parametrize("mailer", ["file", "smtp"])
def test_worker_concurrency_from_the_environment_wins(
    tmp_path: Path, mailer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_CONCURRENCY", "5")
    monkeypatch.setenv("SMTP_HOST", "relay.example")
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path, mailer=mailer)
    assert settings.handled_at_once == 5


@pytest.mark.parametrize("value", ["0", "65", "-1", "many", "1.5"])
def test_nonsense_worker_concurrency_is_refused(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_CONCURRENCY", value)
    with pytest.raises(ValidationError, match="worker_concurrency"):
        NotifySettings(INTAKE_DATA_DIR=tmp_path)


def test_the_stall_bound_leaves_room_for_the_loops_own_longest_waits(tmp_path: Path) -> None:
    """A bound below them would have kubelet restart a worker that is only backing off from a
    bus outage, or waiting for a slow mail server's retries."""
    settings = NotifySettings(INTAKE_DATA_DIR=tmp_path)
    one_message = settings.mail_attempts * settings.mail_timeout_seconds
    assert settings.worker_stall_seconds >= 3 * max(RECEIVE_BACKOFF_MAX_SECONDS, one_message)


def test_a_stall_bound_of_zero_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        NotifySettings(INTAKE_DATA_DIR=tmp_path, worker_stall_seconds=0)
