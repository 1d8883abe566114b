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


async def test_dlq_purge_prints_ids_only_and_removes_the_dead_letters_of_erased_records(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from intake_core.adapters.sqlite_store import SqliteSubmissionStore
    from intake_core.dead_letter_purge import DEAD_LETTER_PURGED, PURGE_ACTOR
    from intake_core.ports import AuditEntry
    from support import stored_event

    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    kept, erased = await stored_event(store), await stored_event(store)
    audit = AuditEntry("submission.erase", "dpo@example.com", datetime.now(UTC), erased.subject)
    await store.erase(erased.subject, audit)
    await store.close()
    queue = LocalQueue(tmp_path / "queue.db")
    await queue.open()
    await queue.publish_batch([kept, erased])
    for delivery in await queue.receive(2, 0):
        await queue.dead_letter(delivery, "MaxDeliveryCountExceeded", "last error: SMTPError")

    dry = intake(tmp_path, "dlq", "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == f"{erased.subject}\t{erased.id}\terased\n"  # ids, never the body
    assert "would purge 1 of 2 dead-lettered message(s) on the local queue; kept 1" in dry.stderr
    assert len(await queue.dead_letters()) == 2

    purged = intake(tmp_path, "dlq", "purge")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout == dry.stdout
    assert "purged 1 of 2" in purged.stderr
    assert [letter.message_id for letter in await queue.dead_letters()] == [kept.id]
    await queue.close()
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    [*_, entry] = await store.audit_trail(erased.subject)
    await store.close()
    assert (entry.action, entry.actor) == (DEAD_LETTER_PURGED, PURGE_ACTOR)

    # The limit is the notify ledger's: keeping dead letters longer could email twice.
    refused = intake(tmp_path, "dlq", "purge", "--older-than-days", "31")
    assert refused.returncode == 2 and "1 to 30 days" in refused.stderr


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
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["erased"] == 0 and summary["deadLettersPurged"] == 0
