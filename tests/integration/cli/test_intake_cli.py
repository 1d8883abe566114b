"""The ``intake`` command as an operator runs it: a real subprocess on a real data folder."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import DevIssuer, InvalidToken, TokenVerifier
from intake_core.domain.audit import AuditAction, AuditEntry
from intake_core.domain.erasure import RESTORE_ACTOR
from intake_core.domain.events import submission_created
from intake_core.domain.models import Submission
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from support import make_submission


def intake(
    data_dir: Path, *arguments: str, stdin: str | None = None, **environment: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intake_core.cli", *arguments],
        env={**os.environ, "INTAKE_DATA_DIR": str(data_dir), **environment},
        input=stdin,
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
    from intake_core.dead_letter_purge import PURGE_ACTOR
    from intake_core.domain.audit import AuditEntry
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
    assert (entry.action, entry.actor) == (AuditAction.DEAD_LETTER_PURGED, PURGE_ACTOR)

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
    assert summary["cachedCopiesLeft"] == 0
    assert summary["recentErasuresFinished"] == summary["leftoverQueueMessagesPurged"] == 0


async def test_retention_run_with_the_cache_down_erases_all_the_same_and_exits_1(
    tmp_path: Path,
) -> None:
    import socket
    from datetime import timedelta

    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    old = make_submission(submitted_at=datetime.now(UTC) - timedelta(days=40))
    audit = AuditEntry("submission.created", "client", old.submitted_at, old.client_id)
    await store.save_new(old, submission_created(old), audit)
    await store.close()
    with socket.socket() as closed:  # a port nothing listens on: Redis is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    result = intake(
        tmp_path, "retention", "run", "--days", "30",
        CACHE="redis", REDIS_URL=f"redis://:secret@127.0.0.1:{port}/0",
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["erased"] == 1 and summary["cachedCopiesLeft"] == 1
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    try:
        assert (await store.get_record(old.client_id)).erased
    finally:
        await store.close()


async def saved_in(store: SqliteSubmissionStore) -> Submission:
    submission = make_submission()
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, submission_created(submission), audit)
    return submission


async def erase_in(
    store: SqliteSubmissionStore, client_id: str, actor: str, **details: str
) -> None:
    entry = AuditEntry(AuditAction.ERASE, actor, datetime.now(UTC), client_id, details)
    await store.erase(client_id, entry)


async def test_erasures_a_restore_lost_are_listed_from_the_old_store_and_made_again(
    tmp_path: Path,
) -> None:
    live, restored = tmp_path / "live", tmp_path / "restored"
    restored.mkdir()
    store = SqliteSubmissionStore(live / "intake.db")
    await store.open()
    ada, grace, kept = [await saved_in(store) for _ in range(3)]
    await store.close()
    # The backup: an online copy of the file, as of the restore point.
    with (
        contextlib.closing(sqlite3.connect(live / "intake.db")) as source,
        contextlib.closing(sqlite3.connect(restored / "intake.db")) as backup,
    ):
        source.backup(backup)
    restore_point = datetime.now(UTC)
    store = SqliteSubmissionStore(live / "intake.db")
    await store.open()
    await erase_in(store, ada.client_id, "dpo@example.com", reason="subject-request", note="T-42")
    await erase_in(store, grace.client_id, "system:retention", reason="retention")
    await erase_in(store, grace.client_id, "dpo@example.com", reason="not-needed")  # a repeat
    newer = await saved_in(store)  # after the restore point: the restored store never had it
    await erase_in(store, newer.client_id, "dpo@example.com")
    await store.close()
    queue = LocalQueue(restored / "queue.db")  # the restored side's embedded queue
    await queue.open()
    await queue.publish(submission_created(ada))
    await queue.close()

    listed = intake(live, "erasures", "list", "--since", restore_point.isoformat())
    assert listed.returncode == 0, listed.stderr
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(line["clientId"], line["reason"]) for line in lines] == [
        (ada.client_id, "subject-request"),
        (grace.client_id, "retention"),
        (newer.client_id, None),
    ]
    assert "3 record(s) erased since" in listed.stderr
    erasures = tmp_path / "erasures.jsonl"
    erasures.write_text(listed.stdout)

    reapplied = intake(restored, "erasures", "reapply", str(erasures))
    assert reapplied.returncode == 0, reapplied.stderr
    assert json.loads(reapplied.stdout) == {
        "reapplied": 2, "alreadyErased": 0, "notFound": 1, "queueMessagesPurged": 1,
        "cachedCopiesLeft": 0,
    }  # fmt: skip
    assert f"{newer.client_id}\tnot found" in reapplied.stderr

    store = SqliteSubmissionStore(restored / "intake.db")
    await store.open()
    try:
        for submission, line in zip((ada, grace), lines[:2], strict=True):
            stored = await store.get_record(submission.client_id)
            assert stored is not None and stored.erased
            [_created, erased] = await store.audit_trail(submission.client_id)
            assert (erased.action, erased.actor) == (AuditAction.ERASE, RESTORE_ACTOR)
            assert erased.details == {
                "reason": line["reason"], "originallyErasedAt": line["erasedAt"]
            }  # fmt: skip
        assert await store.get(kept.client_id) == kept
        assert (await store.verify_audit_chain()).intact
    finally:
        await store.close()

    again = intake(restored, "erasures", "reapply", "-", stdin=listed.stdout)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {
        "reapplied": 0, "alreadyErased": 2, "notFound": 1, "queueMessagesPurged": 0,
        "cachedCopiesLeft": 0,
    }  # fmt: skip
    store = SqliteSubmissionStore(restored / "intake.db")
    await store.open()
    try:
        assert len(await store.audit_trail(ada.client_id)) == 2  # audited once, not per run
        assert (await store.verify_audit_chain()).intact
    finally:
        await store.close()


async def test_a_bad_erasures_file_is_refused_by_its_line_and_erases_nothing(
    tmp_path: Path,
) -> None:
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    submission = await saved_in(store)
    await store.close()
    good = json.dumps(
        {"clientId": submission.client_id, "erasedAt": "2026-05-20T09:30:00Z", "reason": None}
    )
    hostile = good.replace("null", '"\\u001b]0;owned\\u0007subject-request"')

    refused = intake(tmp_path, "erasures", "reapply", "-", stdin=f"{good}\n{hostile}\n")
    assert refused.returncode == 2
    assert refused.stderr == (
        "-: line 2: reason is not null or one of consent-withdrawn, not-needed, other,"
        " retention, subject-request, unstated; nothing was erased\n"
    )
    missing = intake(tmp_path, "erasures", "reapply", str(tmp_path / "nowhere.jsonl"))
    assert missing.returncode == 2 and "nothing was erased" in missing.stderr
    assert intake(tmp_path, "erasures", "list", "--since", "2026-05-01T12:00").returncode == 2

    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    try:
        assert await store.get(submission.client_id) == submission
        assert len(await store.audit_trail(submission.client_id)) == 1
    finally:
        await store.close()
