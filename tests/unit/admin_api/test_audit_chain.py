"""The hash-chained audit trail: tampering shows, concurrent writers keep it whole, no PII in it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime

import pytest

from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES
from intake_core.domain.audit import AUDIT_GENESIS_HASH, AuditEntry, audit_chain_hash
from support.pii import fragments_in


def _verify(harness, *roles, sub="auditor@example.com"):
    return harness.client.get("/v1/audit/verify", headers=harness.auth(*roles, sub=sub))


def _some_history(harness):
    first = harness.seed().client_id
    second = harness.seed(name="Fabrikam", email="grace@fabrikam.example").client_id
    read = harness.auth("Submissions.Read")
    harness.client.get(f"/v1/submissions/{first}", headers=read)
    harness.client.get("/v1/submissions", params={"q": "ada"}, headers=read)
    harness.client.patch(
        f"/v1/submissions/{first}",
        json={"status": "contacted"},
        headers=harness.auth("Submissions.Manage"),
    )
    harness.client.post(f"/v1/submissions/{second}/erase", headers=harness.auth(*ROLES))
    return first, second


def _execute(harness, *statements):
    with harness.db() as connection:
        for statement, parameters in statements:
            connection.execute(statement, parameters)
        connection.commit()


def test_an_untouched_trail_verifies_and_the_check_is_audited(harness):
    _some_history(harness)
    response = _verify(harness, "Audit.Read")
    assert response.status_code == 200, response.text
    check = response.json()
    assert check == {
        "intact": True,
        "entries": 6,
        "headHash": check["headHash"],
        "brokenAt": None,
        "problem": None,
    }
    with harness.db() as connection:
        last = connection.execute("SELECT * FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    assert last["action"] == "audit.verify" and last["actor"] == "auditor@example.com"
    assert last["prev_hash"] == check["headHash"]
    again = _verify(harness, "Audit.Read").json()
    assert again["intact"] and again["entries"] == 7 and again["headHash"] == last["hash"]


def test_each_row_links_to_the_one_before(harness):
    _some_history(harness)
    with harness.db() as connection:
        rows = connection.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    previous = AUDIT_GENESIS_HASH
    for row in rows:
        entry = AuditEntry(
            row["action"],
            row["actor"],
            datetime.fromisoformat(row["at"]),
            row["client_id"],
            json.loads(row["details"]),
        )
        assert row["prev_hash"] == previous
        assert row["hash"] == audit_chain_hash(previous, row["seq"], entry)
        previous = row["hash"]


TAMPERING = {
    "changed actor": (
        [("UPDATE audit SET actor = 'someone-else' WHERE seq = 3", ())],
        3,
        "changed",
    ),
    "changed details": (
        [('UPDATE audit SET details = \'{"requestId": "x"}\' WHERE seq = 3', ())],
        3,
        "changed",
    ),
    "changed time": (
        [("UPDATE audit SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 2", ())],
        2,
        "changed",
    ),
    "unreadable details": ([("UPDATE audit SET details = '{' WHERE seq = 4", ())], 4, "readable"),
    "deleted middle row": ([("DELETE FROM audit WHERE seq = 3", ())], 4, "missing"),
    "deleted first row": ([("DELETE FROM audit WHERE seq = 1", ())], 2, "missing"),
    "deleted last row": ([("DELETE FROM audit WHERE seq = 6", ())], 6, "missing"),
    "hash recomputed without relinking": (
        [("UPDATE audit SET actor = 'x', hash = 'f' || substr(hash, 2) WHERE seq = 3", ())],
        3,
        "changed",
    ),
}


@pytest.mark.parametrize(("statements", "broken_at", "word"), TAMPERING.values(), ids=TAMPERING)
def test_tampering_breaks_the_chain_where_it_happened(harness, statements, broken_at, word):
    _some_history(harness)
    _execute(harness, *statements)
    check = _verify(harness, "Audit.Read").json()
    assert check["intact"] is False
    assert check["brokenAt"] == broken_at
    assert word in check["problem"]


def test_a_row_slipped_in_with_a_valid_hash_still_breaks_the_chain(harness):
    """The forger renumbers the later rows to make room and hashes the new row properly:
    the sequence number is part of each hash, so every later row no longer matches."""
    _some_history(harness)
    with harness.db() as connection:
        rows = connection.execute("SELECT seq FROM audit WHERE seq > 2 ORDER BY seq DESC")
        for (seq,) in rows.fetchall():
            connection.execute("UPDATE audit SET seq = ? WHERE seq = ?", (seq + 1, seq))
        previous = connection.execute("SELECT hash FROM audit WHERE seq = 2").fetchone()[0]
        forged = AuditEntry("submission.read", "nobody", datetime.now(UTC), None, {})
        connection.execute(
            "INSERT INTO audit (seq, at, action, actor, client_id, details, prev_hash, hash)"
            " VALUES (3, ?, ?, ?, NULL, '{}', ?, ?)",
            (
                forged.at.isoformat(timespec="microseconds"),
                forged.action,
                forged.actor,
                previous,
                audit_chain_hash(previous, 3, forged),
            ),
        )
        connection.commit()
    check = _verify(harness, "Audit.Read").json()
    assert check["intact"] is False and check["brokenAt"] == 4


def test_an_appended_row_with_a_bad_hash_is_caught(harness):
    _some_history(harness)
    _execute(
        harness,
        (
            "INSERT INTO audit (at, action, actor, client_id, details, prev_hash, hash)"
            " VALUES ('2026-01-01T00:00:00.000000+00:00', 'x', 'y', NULL, '{}', 'z', 'z')",
            (),
        ),
    )
    check = _verify(harness, "Audit.Read").json()
    assert check["intact"] is False and check["brokenAt"] == 7


async def test_entries_cut_from_the_end_stay_missing_after_more_are_appended(tmp_path):
    """New entries take the number after the highest ever used, as AUTOINCREMENT would: had
    they taken the number after the highest left, they would close the gap over the cut."""
    store = SqliteSubmissionStore(tmp_path / "intake.db")
    await store.open()
    try:
        for n in range(5):
            await store.append_audit(AuditEntry("submission.read", f"s-{n}", datetime.now(UTC)))
        with sqlite3.connect(tmp_path / "intake.db") as connection:
            connection.execute("DELETE FROM audit WHERE seq >= 4")
        await store.append_audit(AuditEntry("submission.read", "later", datetime.now(UTC)))
        report = await store.verify_audit_chain()
        assert not report.intact
        assert (report.broken_at, report.problem) == (6, "entries 4 to 5 are missing")
    finally:
        await store.close()


async def test_two_processes_writing_one_file_keep_one_chain(tmp_path):
    """Two stores on one file stand for intake-api and admin-api: each has its own writer
    connection, so only SQLite's write lock orders their appends."""
    path = tmp_path / "intake.db"
    stores = [SqliteSubmissionStore(path), SqliteSubmissionStore(path)]
    for store in stores:
        await store.open()
    try:

        async def write(store: SqliteSubmissionStore, n: int) -> None:
            entry = AuditEntry("submission.read", f"staff-{n}", datetime.now(UTC), None, {})
            await store.append_audit(entry)

        await asyncio.gather(*(write(stores[n % 2], n) for n in range(300)))
        report = await stores[0].verify_audit_chain()
        assert report.intact, report
        assert report.entries == 300
    finally:
        for store in stores:
            await store.close()


async def test_a_trail_from_before_the_chain_is_chained_on_open(tmp_path):
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
        " action TEXT NOT NULL, actor TEXT NOT NULL, client_id TEXT, details TEXT NOT NULL);"
        "INSERT INTO audit (at, action, actor, client_id, details) VALUES"
        " ('2025-01-01T00:00:00.000000+00:00', 'submission.created', 'client', 'CL-1', '{}'),"
        " ('2025-01-02T00:00:00.000000+00:00', 'submission.read', 'staff', 'CL-1', '{}');"
    )
    connection.commit()
    connection.close()
    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        await store.append_audit(AuditEntry("audit.read", "staff", datetime.now(UTC), "CL-1"))
        report = await store.verify_audit_chain()
        assert report.intact and report.entries == 3
        assert [entry.action for entry in await store.audit_trail("CL-1")][:2] == [
            "submission.created",
            "submission.read",
        ]
    finally:
        await store.close()


# Hashes and request ids are hex, so a bare "ada" could turn up in them by chance.
PII = ("contoso", "ada@", "lovelace", "7946", "main st", "sw1a", "aks", "london", "grace", "hopper",
       "fabrikam", "fab.example")  # fmt: skip


def test_no_action_ever_writes_personal_data_to_the_trail(harness):
    """Every staff action, with the subject's own details as search text, then the raw rows."""
    ada = harness.seed(idempotency_key="k").client_id
    grace = harness.seed(name="Fabrikam", contact_name="Grace Hopper", email="grace@fab.example")
    everything = harness.auth(*ROLES, sub="staff-1")
    for q in ("ada@example.com", "Lovelace", "Contoso", "ad", "Grace Hopper"):
        harness.client.get("/v1/submissions", params={"q": q}, headers=everything)
        harness.client.get("/v1/submissions.csv", params={"q": q}, headers=everything)
    for path in (f"/v1/submissions/{ada}", f"/v1/submissions/{ada}/audit"):
        assert harness.client.get(path, headers=everything).status_code == 200
    assert (
        harness.client.get(f"/v1/submissions/{ada}/subject-export", headers=everything).status_code
        == 200
    )
    harness.client.patch(f"/v1/submissions/{ada}", json={"status": "contacted"}, headers=everything)
    for client_id in (ada, grace.client_id):
        assert (
            harness.client.post(f"/v1/submissions/{client_id}/erase", headers=everything)
        ).status_code == 200
    assert _verify(harness, "Audit.Read").json()["intact"]
    with harness.db() as connection:
        rows = connection.execute("SELECT * FROM audit").fetchall()
    assert len(rows) >= 16
    for row in rows:
        # sqlite3.Row iterates its values, not its keys
        kept = {k: row[k] for k in row.keys() if k not in {"hash", "prev_hash"}}  # noqa: SIM118
        text = json.dumps([str(value) for value in kept.values()])
        assert fragments_in(text, PII, ignore_case=True) == [], row["action"]
