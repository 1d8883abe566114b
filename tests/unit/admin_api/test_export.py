"""GET /v1/submissions.csv: streamed, attachment, header row, formulas neutralised, filters."""

from __future__ import annotations

import csv
import io

import pytest

from admin_api import export
from admin_api.audit_log import StaffRequest
from admin_api.filters import SubmissionFilters
from intake_core.ports.store import StoreUnavailable

EXPORT = ("Submissions.Export",)
_STAFF = StaffRequest(actor="exporter@example.com", request_id="export-1")
HEADER = [
    "clientId",
    "companyName",
    "industry",
    "serviceType",
    "status",
    "submittedAt",
    "contactName",
    "contactEmail",
]


def _export(harness, **params):
    response = harness.client.get(
        "/v1/submissions.csv", params=params, headers=harness.auth(*EXPORT)
    )
    assert response.status_code == 200, response.text
    return response


def _rows(response):
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_an_attachment_with_a_header_row_and_one_row_per_record(harness):
    submission = harness.seed()
    response = _export(harness)
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    assert _rows(response) == [
        HEADER,
        [
            submission.client_id,
            "Contoso Ltd",
            "technology",
            "cloud-migration",
            "received",
            "2026-03-01T12:00:00Z",
            "Ada Lovelace",
            "ada@example.com",
        ],
    ]


def test_an_empty_export_is_just_the_header(harness):
    assert _rows(_export(harness)) == [HEADER]


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)"],
)
def test_formulas_are_neutralised(harness, name):
    harness.seed(name=name, contact_name=name)
    row = _rows(_export(harness))[1]
    assert row[1] == f"'{name}"
    assert row[6] == f"'{name}"


def test_neutralise_covers_tab_and_carriage_return():
    assert export.neutralise("\t=1") == "'\t=1"
    assert export.neutralise("\r=1") == "'\r=1"
    assert export.neutralise("Contoso = good") == "Contoso = good"


def test_quotes_commas_and_unicode_survive(harness):
    harness.seed(name='Zoë "the best", Ltd', contact_name="Łukasz Żółw")
    row = _rows(_export(harness))[1]
    assert row[1] == 'Zoë "the best", Ltd'
    assert row[6] == "Łukasz Żółw"


def test_the_same_filters_as_the_list(harness):
    wanted = harness.seed(name="Fabrikam", industry="healthcare")
    harness.seed(name="Contoso", industry="technology")
    rows = _rows(_export(harness, industry="healthcare"))
    assert [row[0] for row in rows[1:]] == [wanted.client_id]
    rows = _rows(_export(harness, q="fabri"))
    assert [row[0] for row in rows[1:]] == [wanted.client_id]


def test_an_export_larger_than_one_page_streams_every_record_once(harness, seed_many, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 7)
    seeded = seed_many(30)
    with harness.client.stream(
        "GET", "/v1/submissions.csv", headers=harness.auth(*EXPORT)
    ) as response:
        chunks = list(response.iter_raw())
    assert len(chunks) >= 5  # header, then one chunk per page of 7: sent as they are read
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [s.client_id for s in reversed(seeded)]
    with harness.db() as connection:
        audited = connection.execute(
            "SELECT client_id FROM audit WHERE action = 'submission.exported'"
        ).fetchall()
    assert sorted(row[0] for row in audited) == sorted(s.client_id for s in seeded)


class _AuditGoesDownAfter:
    """The real store, whose audit appends fail once ``allowed`` have gone through (fault
    injection: a store that fails on cue has no real counterpart to run here)."""

    def __init__(self, store, allowed):
        self._store, self._allowed = store, allowed

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def append_audit(self, entry):
        if self._allowed == 0:
            raise StoreUnavailable("audit down")
        self._allowed -= 1
        await self._store.append_audit(entry)


def test_a_record_whose_export_cannot_be_audited_is_not_sent(harness, seed_many, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_PAGE_SIZE", 5)
    seeded = seed_many(12)
    # The export's own entry and the first page's five go through; the second page's fail.
    failing = _AuditGoesDownAfter(harness.store, allowed=1 + 5)
    chunks = []
    stream = harness.run(export.start_export, failing, SubmissionFilters(), _STAFF)
    with pytest.raises(StoreUnavailable):
        harness.run(_collect, stream, chunks)
    sent = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"))))[1:]
    assert [row[0] for row in sent] == [s.client_id for s in reversed(seeded)][:5]


async def _collect(stream, chunks):
    async for chunk in stream:
        chunks.append(chunk)


@pytest.mark.parametrize(
    ("name", "value"), [("industry", "nope"), ("submittedFrom", "never"), ("q", "q" * 500)]
)
def test_bad_filters_are_422(harness, name, value):
    response = harness.client.get(
        "/v1/submissions.csv", params={name: value}, headers=harness.auth(*EXPORT)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
