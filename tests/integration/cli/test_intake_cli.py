"""The ``intake`` command as an operator runs it: a real subprocess on a real data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.auth import DevIssuer, InvalidToken, TokenVerifier
from intake_core.domain.events import submission_created
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from support import make_submission


def intake(data_dir: Path, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake_core.cli", *arguments],
        env={**os.environ, "INTAKE_DATA_DIR": str(data_dir), **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dev_token_prints_only_a_token_admin_api_accepts(tmp_path: Path) -> None:
    result = intake(
        tmp_path,
        "dev-token",
        "--role",
        "Submissions.Read",
        "--role",
        "Audit.Read",
        "--sub",
        "ops@example.com",
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    staff = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=DevIssuer(tmp_path)).verify(token)
    assert staff.subject == "ops@example.com"
    assert staff.roles == {"Submissions.Read", "Audit.Read"}


def test_dev_token_is_refused_in_prod_and_unknown_roles_are_refused(tmp_path: Path) -> None:
    assert intake(tmp_path, "dev-token", ENVIRONMENT="prod").returncode != 0
    assert intake(tmp_path, "dev-token", "--role", "Root").returncode != 0


def test_a_token_from_another_data_dir_is_not_accepted(tmp_path: Path) -> None:
    token = intake(tmp_path / "a", "dev-token").stdout.strip()
    verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=DevIssuer(tmp_path / "b"))
    with pytest.raises(InvalidToken):
        verifier.verify(token)


async def test_dlq_list_and_replay_on_the_local_queue(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "queue.db")
    await queue.open()
    event = submission_created(make_submission())
    await queue.publish(event)
    [delivery] = await queue.receive(1, 0)
    await queue.dead_letter(delivery, "MalformedEvent", "not a CloudEvent")

    listed = intake(tmp_path, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t")[:3] == [event.id, "1", "MalformedEvent"]
    assert "1 dead-lettered message(s)" in listed.stderr

    replayed = intake(tmp_path, "dlq", "replay")
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 1" in replayed.stdout
    [again] = await queue.receive(1, 0)
    assert again.message_id == event.id
    await queue.close()


async def test_audit_verify_reports_an_intact_chain_then_a_tampered_one(tmp_path: Path) -> None:
    import json
    import sqlite3

    from intake_core.adapters.sqlite_store import SqliteSubmissionStore
    from support import stored_event

    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    for _ in range(3):
        await stored_event(store)
    await store.close()

    intact = intake(tmp_path, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert json.loads(intact.stdout)["intact"] is True

    with sqlite3.connect(tmp_path / "intake.db") as db:
        db.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 2")
    tampered = intake(tmp_path, "audit", "verify")
    assert tampered.returncode == 1
    assert json.loads(tampered.stdout)["intact"] is False


def test_retention_run_prints_what_it_erased(tmp_path: Path) -> None:
    import json

    result = intake(tmp_path, "retention", "run", "--days", "30")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["erased"] == 0
