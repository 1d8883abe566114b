"""Searching the embedded store.

``q`` of three characters or more goes to an FTS5 ``trigram`` index over the search text
(substrings, case-insensitive). When it matches few records their rows are fetched by id; when
it matches many (a common fragment) or ``q`` is shorter than a trigram, a covering index walked
newest first finds a page quickly. Either way ``LIKE`` has the last word, so the index only ever
narrows. Triggers keep the index in step with the table inside the same transaction. A ``q``
that can be a piece of a Client ID (``client_id_forms``) is also asked of the same index, as
the IDs write it, and ``instr`` on ``client_id`` decides.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from intake_core.domain.client_id import client_id_forms
from intake_core.domain.models import Submission
from intake_core.domain.utc import utc_text
from intake_core.ports.staff import SearchQuery

# The trigram index answers substrings of three characters or more.
TRIGRAM = 3
# Up to this many index matches, their rows are fetched by id; beyond it, the newest-first walk
# finds a page sooner (k matches spread over N records put a page within about 26·N/k entries of
# the walk). Kept small because counting past it is wasted work: FTS5 pays per match.
INDEX_CANDIDATES = 300
# New records join the search index this many at a time. FTS5 writes a segment for every
# transaction that adds to the index and merges segments as they pile up; one record at a time
# (as when submissions arrive a few per second), a write now and then spent 35-60 ms of CPU
# merging, and every request waiting on that write waited with it. Until they join, the newest
# records (fewer than this) are searched row by row.
INDEX_EVERY = 256


def search_text(submission: Submission) -> str:
    company = submission.company
    parts = (submission.client_id, company.name, company.contact.name, company.contact.email)
    return "\n".join(parts).casefold()


def encode_token(row: sqlite3.Row) -> str:
    position = json.dumps([row["submitted_at"], row["client_id"]])
    return base64.urlsafe_b64encode(position.encode()).decode()


def _decode_token(token: str) -> tuple[str, str]:
    try:
        submitted_at, client_id = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError) as error:
        raise ValueError("continuationToken is not valid") from error
    if not isinstance(submitted_at, str) or not isinstance(client_id, str):
        raise ValueError("continuationToken is not valid")
    return submitted_at, client_id


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
    clauses: list[str] = ["erased_at IS NULL"]
    parameters: list[Any] = []
    for column, value in (
        ("industry", query.industry),
        ("service_type", query.service_type),
        ("status", query.status),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            parameters.append(value.value)
    if query.submitted_from is not None:
        clauses.append("submitted_at >= ?")
        parameters.append(utc_text(query.submitted_from))
    if query.submitted_to is not None:
        clauses.append("submitted_at <= ?")
        parameters.append(utc_text(query.submitted_to))
    if query.continuation_token:
        clauses.append("(submitted_at, client_id) < (?, ?)")
        parameters.extend(_decode_token(query.continuation_token))
    return clauses, parameters


def _index_candidates(
    connection: sqlite3.Connection, text: str, forms: list[str]
) -> list[int] | None:
    """Ids of the records whose search text may contain ``text``, or one of the Client ID
    ``forms`` (the index's matches and the records not yet in it), or None when the index
    cannot say (too short) or would name so many that walking newest first is quicker. The
    forms are asked only when the text alone leaves the index the answer."""
    matches = _index_matches(connection, [text])
    if matches is not None and forms:
        more = _index_matches(connection, sorted(_around_hyphens(forms)))
        if more is None or len(matches) + len(more) > INDEX_CANDIDATES:
            return None
        matches += more
    if matches is None:
        return None
    not_yet_indexed = connection.execute(
        "SELECT search_rowid FROM submissions"
        " WHERE search_rowid > (SELECT through FROM search_index_mark)"
    ).fetchall()
    return matches + [row[0] for row in not_yet_indexed]


def _index_matches(connection: sqlite3.Connection, texts: list[str]) -> list[int] | None:
    """The indexed records holding one of ``texts``; None if that is more than a walk costs,
    or a text is too short or one FTS5 cannot parse."""
    if any(len(text) < TRIGRAM for text in texts):
        return None
    phrases = " OR ".join('"' + text.replace('"', '""') + '"' for text in texts)
    try:
        rows = connection.execute(
            "SELECT rowid FROM submissions_search WHERE submissions_search MATCH ? LIMIT ?",
            (phrases, INDEX_CANDIDATES + 1),
        ).fetchall()
    except sqlite3.OperationalError:
        return None  # text FTS5 cannot parse (a NUL, say): LIKE alone still answers correctly
    return [row[0] for row in rows] if len(rows) <= INDEX_CANDIDATES else None


def _around_hyphens(forms: list[str]) -> set[str]:
    """What the index is asked for a piece of a Client ID: each form's widest stretch around
    one of its hyphens, two symbols either side at most (``h0-pper`` → ``h0-pp``), never the
    C of the prefix. Trigrams holding a hyphen are in few records (names and emails seldom have
    one), where the form's others can be in most ("per" of Hopper), and ``cl-`` is in all:
    asked for whole forms, FTS5 read those long lists and added 0.6-0.8 ms to a search for a
    name, and 1.5-2.5 ms to one for a whole Client ID, at 100,000 records. ``instr`` on the
    Client ID decides; this only narrows."""
    stretches = set()
    for whole in forms:
        form = whole.removeprefix("C")  # "L-" is in a 32nd of the records, "CL-" in all
        around = [form[max(0, at - 2) : at + 3] for at, symbol in enumerate(form) if symbol == "-"]
        stretches.add(max(around, key=len, default=form).casefold())
    return stretches


# What a search selects of each record: the whole stored document, or only what a list shows
# (``SearchHit``), picked out of the document by SQLite. For a page of 25 rows, decoding each
# whole document in Python was a sixth of admin-api's CPU per search. Both keep what a page's
# continuation token is made of (``client_id``, ``submitted_at``).
DOCUMENTS = "client_id, submitted_at, document"
HITS = (
    "client_id, submitted_at, status, industry, service_type,"
    " document ->> '$.company.name' AS company_name,"
    " document ->> '$.company.contact.name' AS contact_name,"
    " document ->> '$.company.contact.email' AS contact_email"
)


def search_rows(
    connection: sqlite3.Connection, query: SearchQuery, columns: str = DOCUMENTS
) -> list[sqlite3.Row]:
    clauses, parameters = _filters(query)
    source = "submissions"
    if query.text:
        text = query.text.casefold()
        if "\x00" in text:
            # SQLite ends a LIKE pattern at a NUL ("%" would match everything); no stored
            # search text holds one (control characters are refused at intake).
            return []
        # Text that can be a piece of a Client ID (five symbols or more: client_id_forms) also
        # finds the IDs that hold it, written as they are, with hyphens.
        forms = client_id_forms(query.text)
        candidates = _index_candidates(connection, text, forms)
        if candidates is not None:
            source = "submissions INDEXED BY submissions_search_rowid"
            clauses.append("search_rowid IN (SELECT value FROM json_each(?))")
            parameters.append(json.dumps(candidates))
        else:
            source = "submissions INDEXED BY submissions_scan"
        matches = ["search_text LIKE ? ESCAPE '\\'", *("instr(client_id, ?)" for _ in forms)]
        clauses.append(f"({' OR '.join(matches)})")
        parameters.extend([f"%{_escape_like(text)}%", *forms])
    sql = (
        f"SELECT {columns} FROM {source}"  # noqa: S608 - only fixed names are interpolated
        f" WHERE {' AND '.join(clauses)}"
        " ORDER BY submitted_at DESC, client_id DESC LIMIT ?"
    )
    parameters.append(query.limit + 1)
    rows: list[sqlite3.Row] = connection.execute(sql, parameters).fetchall()
    return rows


def index_between(connection: sqlite3.Connection, mark: int, through: int) -> None:
    """Add the records after the index's ``mark``, up to ``through``, in one go."""
    connection.execute(
        "INSERT INTO submissions_search (rowid, search_text)"
        " SELECT search_rowid, search_text FROM submissions"
        " WHERE search_rowid > ? AND search_rowid <= ?",
        (mark, through),
    )
    connection.execute("UPDATE search_index_mark SET through = ?", (through,))
