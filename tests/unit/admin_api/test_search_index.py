"""The SQLite search index (FTS5 trigram): new records join it in groups and are found before
they do, what is in it stays in step with the table, it is upgraded on open, and erased data is
gone from the file itself, not only from query results."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta

import pytest

from intake_core.adapters import sqlite_base, sqlite_search
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import ROLES
from intake_core.domain.audit import AuditEntry
from intake_core.domain.client_id import client_id_forms
from intake_core.domain.events import submission_created
from intake_core.ports.staff import SearchQuery
from support import make_submission

from .conftest import BASE_TIME


def _index_matches(harness, text):
    with harness.db() as connection:
        return connection.execute(
            "SELECT count(*) FROM submissions_search WHERE submissions_search MATCH ?",
            (f'"{text}"',),
        ).fetchone()[0]


def _integrity_check(harness):
    with harness.db() as connection:
        connection.execute(
            "INSERT INTO submissions_search (submissions_search, rank)"
            " VALUES ('integrity-check', 1)"
        )


def _all_pages(harness, q):
    found, token = [], None
    while True:
        params = {"q": q, "limit": 3, **({"continuationToken": token} if token else {})}
        page = harness.client.get(
            "/v1/submissions", params=params, headers=harness.auth("Submissions.Read")
        ).json()
        found += [item["clientId"] for item in page["items"]]
        token = page["continuationToken"]
        if token is None:
            return found


def test_new_records_join_the_index_together_and_are_found_before(harness, monkeypatch):
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", 3)
    ada = harness.seed(email="ada@contoso.example").client_id
    grace = harness.seed(name="Fabrikam", email="grace@fabrikam.example").client_id
    assert _index_matches(harness, "ada@contoso") == 0
    assert _all_pages(harness, "ada@contoso") == [ada]
    assert _all_pages(harness, "fabrikam") == [grace]
    _integrity_check(harness)

    third = harness.seed(name="Northwind", email="nw@northwind.example").client_id
    for text in ("ada@contoso", "fabrikam", "northwind"):
        assert _index_matches(harness, text) == 1, text
    assert _all_pages(harness, "northwind") == [third]
    _integrity_check(harness)


def test_the_index_follows_status_changes_and_erasures(harness, monkeypatch):
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", 1)
    ada = harness.seed(email="ada@contoso.example").client_id
    harness.seed(name="Fabrikam", email="grace@fabrikam.example")
    assert _index_matches(harness, "ada@contoso") == 1
    harness.client.patch(
        f"/v1/submissions/{ada}", json={"status": "contacted"}, headers=harness.auth(*ROLES)
    )
    assert _index_matches(harness, "ada@contoso") == 1
    harness.client.post(f"/v1/submissions/{ada}/erase", headers=harness.auth(*ROLES))
    assert _index_matches(harness, "ada@contoso") == 0
    assert _index_matches(harness, "fabrikam") == 1
    _integrity_check(harness)


def test_a_record_erased_before_it_joins_the_index_joins_it_erased(harness, monkeypatch):
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", 3)
    ada = harness.seed(email="ada@contoso.example").client_id
    harness.client.post(f"/v1/submissions/{ada}/erase", headers=harness.auth(*ROLES))
    _integrity_check(harness)
    harness.seed(name="Fabrikam", email="grace@fabrikam.example")
    harness.seed(name="Northwind", email="nw@northwind.example")
    assert _index_matches(harness, "fabrikam") == 1
    assert _index_matches(harness, "ada@contoso") == 0
    assert _all_pages(harness, "ada@contoso") == []
    _integrity_check(harness)


@pytest.mark.parametrize("index_every", [1, 4, 1000])
@pytest.mark.parametrize("candidates", [0, 1, 1000])
def test_both_search_paths_page_through_the_same_records(
    harness, monkeypatch, candidates, index_every
):
    """With few candidates the index names the rows; with many the newest-first walk finds
    them (with none allowed, it finds all). Forcing each path must give the same, newest-first,
    complete answer, whether the records are all in the index, some, or none yet."""
    monkeypatch.setattr(sqlite_search, "INDEX_CANDIDATES", candidates)
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", index_every)
    seeded = [
        harness.seed(
            name=f"Company {n}",
            email=f"p{n}@{'even' if n % 2 == 0 else 'odd'}.example",
            submitted_at=BASE_TIME + timedelta(minutes=n % 4),  # ties on time, broken by id
        )
        for n in range(10)
    ]
    newest_first = sorted(seeded, key=lambda s: (s.submitted_at, s.client_id), reverse=True)
    for q, wanted in (
        ("even.example", [s for s in newest_first if "even" in s.company.contact.email]),
        ("EXAMPLE", newest_first),
        ("company 1", [s for s in newest_first if s.company.name == "Company 1"]),
        ("3@", [s for s in newest_first if s.company.contact.email.startswith("p3@")]),
        (_as_read(seeded[5].client_id[5:14]), [seeded[5]]),
        (_as_read(seeded[2].client_id), [seeded[2]]),
    ):
        assert _all_pages(harness, q) == [s.client_id for s in wanted], q


@pytest.mark.parametrize("text", ["cl7k2m9x4pabcd", "CL-7K2M-9X4P-ABCD", "c17k2m", "l7k2m9x"])
def test_a_client_id_piece_never_asks_the_index_for_what_every_record_holds(text):
    """Every record's search text starts with "cl-": asked for it, FTS5 reads a list as long as
    the table (1.5-2.5 ms a search at 100,000 records) for no narrowing."""
    stretches = sqlite_search._around_hyphens(client_id_forms(text))
    assert stretches and not any("cl-" in stretch for stretch in stretches), stretches


def _as_read(client_id_piece):
    """As staff type a piece of a Client ID read to them: no hyphens, O for 0, l for 1."""
    return client_id_piece.replace("-", "").replace("0", "O").replace("1", "l").lower()


# Everything of the search index but the column it reads.
_NO_INDEX = """
DROP TRIGGER submissions_search_update; DROP TRIGGER submissions_search_delete;
DROP TABLE submissions_search; DROP VIEW submissions_indexed; DROP TABLE search_index_mark;
"""


async def _saved_alone(path):
    """One record saved by a store of this release, which is then closed."""
    store = SqliteSubmissionStore(path)
    await store.open()
    submission = make_submission()
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, submission_created(submission), audit)
    await store.close()
    return submission


async def test_a_database_without_the_index_gets_it_on_open(tmp_path):
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE submissions (client_id TEXT PRIMARY KEY, submitted_at TEXT NOT NULL,"
        " status TEXT NOT NULL, industry TEXT NOT NULL, service_type TEXT NOT NULL,"
        " search_text TEXT NOT NULL, document TEXT NOT NULL);"
    )
    connection.commit()
    connection.close()
    # A record written by the earlier release, through the store of this one but with the
    # index objects removed afterwards, so the upgrade has a real document to index.
    old = await _saved_alone(path)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(_NO_INDEX + "UPDATE submissions SET search_rowid = NULL;")

    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        [found] = (await store.search(SearchQuery(text="da@exam"))).items
        assert found.client_id == old.client_id
        newer = make_submission()
        audit = AuditEntry("submission.created", "client", newer.submitted_at, newer.client_id)
        await store.save_new(newer, submission_created(newer), audit)
        assert len((await store.search(SearchQuery(text="lovelace"))).items) == 2
    finally:
        await store.close()


# The index as the release before grouped inserts laid it out: every record added by a trigger.
_PER_RECORD_LAYOUT = """
CREATE VIRTUAL TABLE submissions_search USING fts5(search_text, content='submissions',
    content_rowid='search_rowid', tokenize='trigram');
INSERT INTO submissions_search (submissions_search) VALUES ('rebuild');
CREATE TRIGGER submissions_search_insert AFTER INSERT ON submissions BEGIN
    INSERT INTO submissions_search (rowid, search_text) VALUES (new.search_rowid, new.search_text);
END;
CREATE TRIGGER submissions_search_update AFTER UPDATE OF search_text ON submissions BEGIN
    INSERT INTO submissions_search (submissions_search, rowid, search_text)
        VALUES ('delete', old.search_rowid, old.search_text);
    INSERT INTO submissions_search (rowid, search_text) VALUES (new.search_rowid, new.search_text);
END;
CREATE TRIGGER submissions_search_delete AFTER DELETE ON submissions BEGIN
    INSERT INTO submissions_search (submissions_search, rowid, search_text)
        VALUES ('delete', old.search_rowid, old.search_text);
END;
"""


async def test_a_per_record_index_is_replaced_by_the_grouped_one_on_open(tmp_path):
    path = tmp_path / "intake.db"
    old = await _saved_alone(path)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(_NO_INDEX + _PER_RECORD_LAYOUT)

    store = SqliteSubmissionStore(path)
    await store.open()
    try:
        newer = make_submission()
        audit = AuditEntry("submission.created", "client", newer.submitted_at, newer.client_id)
        await store.save_new(newer, submission_created(newer), audit)
        found = (await store.search(SearchQuery(text="lovelace"))).items
        assert {s.client_id for s in found} == {old.client_id, newer.client_id}
    finally:
        await store.close()
    with contextlib.closing(sqlite3.connect(path)) as connection:
        triggers = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )}  # fmt: skip
        assert triggers == {"submissions_search_update", "submissions_search_delete"}
        [indexed] = connection.execute(
            "SELECT rowid FROM submissions_search WHERE submissions_search MATCH '\"lovelace\"'"
        ).fetchall()
        assert indexed == (1,)  # the record from before; the newer one waits for its group
        connection.execute(
            "INSERT INTO submissions_search (submissions_search, rank) VALUES ('integrity-check', 1)"
        )


async def test_a_record_saved_after_the_newest_was_deleted_still_joins_the_index(
    tmp_path, monkeypatch
):
    """Nothing in the product deletes a record, but a hand at the database might: the next
    record must not take the deleted one's place below the index's mark."""
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", 1)
    path = tmp_path / "intake.db"
    first = await _saved_alone(path)
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DELETE FROM submissions WHERE client_id = ?", (first.client_id,))
    second = await _saved_alone(path)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "INSERT INTO submissions_search (submissions_search, rank) VALUES ('integrity-check', 1)"
        )
        [(rowid,)] = connection.execute(
            "SELECT search_rowid FROM submissions WHERE client_id = ?", (second.client_id,)
        ).fetchall()
        assert connection.execute(
            "SELECT rowid FROM submissions_search WHERE submissions_search MATCH '\"lovelace\"'"
        ).fetchall() == [(rowid,)]


@pytest.mark.parametrize("index_every", [1, 256])
def test_erased_data_is_gone_from_the_database_files(harness, monkeypatch, index_every):
    """What erasure leaves on disk: the FTS index segments and the write-ahead log would keep
    the old text unless the store rewrites them (the record in the index, or not yet)."""
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", index_every)
    marker = "zq-erase-marker"
    client_id = harness.seed(
        name=f"{marker} ltd", email=f"{marker}@contoso.example", idempotency_key="k-1"
    ).client_id
    for n in range(5):
        harness.seed(name=f"Other {n}", email=f"other{n}@fabrikam.example")

    def file_bytes():
        return b"".join(p.read_bytes() for p in harness.db_path.parent.glob("intake.db*"))

    assert marker.encode() in file_bytes()
    response = harness.client.post(
        f"/v1/submissions/{client_id}/erase", headers=harness.auth(*ROLES)
    )
    assert response.status_code == 200
    assert marker.encode() not in file_bytes()
    assert b"other3@fabrikam.example" in file_bytes()
    _integrity_check(harness)


def test_an_erasure_a_reader_keeps_from_the_disk_is_503_and_a_repeat_finishes_it(
    harness, monkeypatch
):
    """Another connection holding a snapshot (intake-api's reader, a backup, an operator's
    sqlite3 shell) stops the write-ahead log's truncation short: the erasure must not say it
    is done while the old pages are still on disk."""
    monkeypatch.setattr(sqlite_search, "INDEX_EVERY", 1)
    monkeypatch.setattr(sqlite_base, "WAL_TRUNCATE_DEADLINE_SECONDS", 0.5)
    marker = "zq-erase-marker"
    client_id = harness.seed(name=f"{marker} ltd", email=f"{marker}@contoso.example").client_id
    for n in range(3):
        harness.seed(name=f"Other {n}", email=f"other{n}@fabrikam.example")

    def file_bytes():
        return b"".join(p.read_bytes() for p in harness.db_path.parent.glob("intake.db*"))

    erase = f"/v1/submissions/{client_id}/erase"
    with contextlib.closing(sqlite3.connect(harness.db_path, isolation_level=None)) as other:
        other.execute("PRAGMA busy_timeout=0")
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM submissions").fetchone()  # holds its snapshot
        held = harness.client.post(erase, headers=harness.auth(*ROLES))
        assert held.status_code == 503, held.text
        assert held.headers["retry-after"]
        other.execute("COMMIT")
    repeated = harness.client.post(erase, headers=harness.auth(*ROLES))
    assert repeated.status_code == 200, repeated.text
    assert marker.encode() not in file_bytes()
