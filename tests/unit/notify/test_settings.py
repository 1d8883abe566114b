"""How many messages the notifier handles at once, by mailer, unless configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from intake_notify.settings import NotifySettings


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
