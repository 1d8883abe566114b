"""POST /v1/submissions/{clientId}/erase: personal data gone from every table, a tombstone kept."""

from __future__ import annotations

import json

import pytest

from support.pii import fragments_in

ERASE = ("Submissions.Erase",)
PII = (
    "Contoso",
    "contoso",
    "Ada",
    "ada@example.com",
    "Lovelace",
    "7946",
    "Main St",
    "SW1A",
    "AKS",
    "Call",
)


def _erase(harness, client_id, sub="dpo@example.com"):
    return harness.client.post(
        f"/v1/submissions/{client_id}/erase", headers=harness.auth(*ERASE, sub=sub)
    )


def _everything_stored_about(harness, client_id):
    """Every row of every table that names the record, as text."""
    with harness.db() as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        dump = []
        for table in tables:
            for row in connection.execute(f"SELECT * FROM {table}"):
                text = json.dumps([str(value) for value in tuple(row)])
                if client_id in text:
                    dump.append((table, text))
    return dump


def test_erasure_removes_personal_data_everywhere_and_keeps_a_tombstone(harness):
    submission = harness.seed(notes="Call after 3pm", idempotency_key="key-1")
    other = harness.seed(
        name="Fabrikam", contact_name="Grace Hopper", email="grace@fabrikam.example"
    )
    client_id = submission.client_id
    before = _everything_stored_about(harness, client_id)
    assert any("ada@example.com" in text for _, text in before)
    assert {"submissions", "outbox", "idempotency", "audit"} <= {table for table, _ in before}

    response = _erase(harness, client_id)
    assert response.status_code == 200, response.text
    tombstone = response.json()
    assert tombstone["clientId"] == client_id
    assert tombstone["submittedAt"] == "2026-03-01T12:00:00Z"
    assert tombstone["status"] == "received"
    assert tombstone["industry"] == "technology"
    assert tombstone["serviceType"] == "cloud-migration"
    assert tombstone["erasedAt"]
    assert "company" not in tombstone and "engagement" not in tombstone

    for table, text in _everything_stored_about(harness, client_id):
        assert fragments_in(text, PII) == [], table
    with harness.db() as connection:
        row = connection.execute(
            "SELECT search_text, erased_at, status FROM submissions WHERE client_id = ?",
            (client_id,),
        ).fetchone()
        assert row["search_text"] == "" and row["erased_at"] and row["status"] == "received"
        assert (
            connection.execute(
                "SELECT count(*) FROM outbox WHERE client_id = ?", (client_id,)
            ).fetchone()[0]
            == 0
        )
        assert (
            connection.execute(
                "SELECT count(*) FROM idempotency WHERE client_id = ?", (client_id,)
            ).fetchone()[0]
            == 0
        )
        # The other record is untouched.
        assert (
            connection.execute(
                "SELECT count(*) FROM outbox WHERE client_id = ?", (other.client_id,)
            ).fetchone()[0]
            == 1
        )


def test_the_tombstone_is_what_reads_return_and_search_no_longer_finds_it(harness):
    client_id = harness.seed().client_id
    _erase(harness, client_id)
    detail = harness.client.get(
        f"/v1/submissions/{client_id}", headers=harness.auth("Submissions.Read")
    )
    assert detail.status_code == 200
    assert detail.json()["erasedAt"] and "company" not in detail.json()
    for q in ("ada", client_id):
        page = harness.client.get(
            "/v1/submissions", params={"q": q}, headers=harness.auth("Submissions.Read")
        )
        assert page.json()["items"] == []
    csv_text = harness.client.get(
        "/v1/submissions.csv", headers=harness.auth("Submissions.Export")
    ).text
    assert client_id not in csv_text and "Ada" not in csv_text


def test_the_erasure_is_audited_with_its_actor(harness):
    client_id = harness.seed().client_id
    _erase(harness, client_id, sub="dpo@example.com")
    trail = harness.client.get(
        f"/v1/submissions/{client_id}/audit", headers=harness.auth("Audit.Read")
    ).json()
    assert trail[-1]["action"] == "submission.erase"
    assert trail[-1]["actor"] == "dpo@example.com"
    assert "ada@" not in json.dumps(trail).lower() and "lovelace" not in json.dumps(trail).lower()


def test_erasing_twice_is_fine(harness):
    client_id = harness.seed().client_id
    first = _erase(harness, client_id)
    second = _erase(harness, client_id)
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]


def test_an_erased_record_cannot_change_status(harness):
    client_id = harness.seed().client_id
    etag = _erase(harness, client_id).headers["etag"]
    for headers in ({}, {"If-Match": etag}):
        response = harness.client.patch(
            f"/v1/submissions/{client_id}",
            json={"status": "contacted"},
            headers={**harness.auth("Submissions.Manage"), **headers},
        )
        assert response.status_code == 409


def test_erasure_invalidates_an_earlier_etag(harness):
    client_id = harness.seed().client_id
    etag = harness.client.get(
        f"/v1/submissions/{client_id}", headers=harness.auth("Submissions.Read")
    ).headers["etag"]
    _erase(harness, client_id)
    response = harness.client.patch(
        f"/v1/submissions/{client_id}",
        json={"status": "contacted"},
        headers={**harness.auth("Submissions.Manage"), "If-Match": etag},
    )
    assert response.status_code == 412


def test_erasing_an_unknown_or_malformed_record(harness):
    assert _erase(harness, "CL-0000-0000-0000").status_code == 404
    assert _erase(harness, "not-an-id").status_code == 422


def test_erasure_purges_the_subjects_messages_from_the_embedded_queue(harness):
    from intake_core.domain.events import submission_created

    erased = harness.seed(email="queued@contoso.example")
    kept = harness.seed(name="Fabrikam", email="kept@fabrikam.example")
    for submission in (erased, erased, kept):
        harness.run(harness.queue.publish, submission_created(submission))
    [held, poisoned] = harness.run(harness.queue.receive, 2, 0)
    harness.run(harness.queue.dead_letter, poisoned, "Poison", "for the test")

    assert _erase(harness, erased.client_id).status_code == 200

    assert harness.run(harness.queue.dead_letters) == []
    remaining = harness.run(harness.queue.receive, 10, 0)
    assert [delivery.body.count(kept.client_id) > 0 for delivery in remaining] == [True]
    queue_files = b"".join(p.read_bytes() for p in harness.db_path.parent.glob("queue.db*"))
    assert b"queued@contoso.example" not in queue_files
    harness.run(harness.queue.complete, held)  # a worker that held one finishes harmlessly


def test_a_queue_failure_after_the_erasure_is_503_and_erasing_again_finishes(
    harness, settings, tmp_path
):
    from fastapi.testclient import TestClient

    from admin_api.app import create_app
    from admin_api.deps import AdminDeps
    from intake_core.adapters.local_queue import LocalQueue
    from intake_core.domain.events import submission_created

    submission = harness.seed(email="queued@contoso.example")
    harness.run(harness.queue.publish, submission_created(submission))
    broken_path = tmp_path / "broken-queue.db"
    broken_path.write_bytes(b"this is not a SQLite database" * 100)
    broken = LocalQueue(broken_path)
    app = create_app(
        settings,
        AdminDeps(store=harness.store, verifier=_harness_verifier(harness), queue=broken),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            f"/v1/submissions/{submission.client_id}/erase", headers=harness.auth(*ERASE)
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert harness.run(harness.queue.depth) == 1  # the purge did not happen
    assert _erase(harness, submission.client_id).status_code == 200
    assert harness.run(harness.queue.depth) == 0


def test_a_cache_failure_after_the_erasure_is_503_once_the_queue_is_purged_all_the_same(
    harness, settings
):
    """The cached copy may have survived, so the answer is not "done" (503, send it again); but
    the erasure stands, and the queue and the disk are cleaned before it answers."""
    from fastapi.testclient import TestClient

    from admin_api.app import create_app
    from admin_api.deps import AdminDeps
    from intake_core.domain.events import submission_created
    from support.unreachable_cache import UnreachableCache

    submission = harness.seed(email="queued@contoso.example")
    harness.run(harness.queue.publish, submission_created(submission))
    app = create_app(
        settings,
        AdminDeps(
            store=harness.store,
            verifier=_harness_verifier(harness),
            queue=harness.queue,
            cache=UnreachableCache(),
        ),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            f"/v1/submissions/{submission.client_id}/erase", headers=harness.auth(*ERASE)
        )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "cached copy could not be removed" in response.json()["detail"]
    stored = harness.run(harness.store.get_record, submission.client_id)
    assert stored is not None and stored.erased
    assert harness.run(harness.queue.depth) == 0


def _harness_verifier(harness):
    from intake_core.auth import TokenVerifier
    from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER

    return TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=harness.issuer)


def _erase_because(harness, client_id, body, sub="dpo@example.com"):
    return harness.client.post(
        f"/v1/submissions/{client_id}/erase", json=body, headers=harness.auth(*ERASE, sub=sub)
    )


def _erasure_entry(harness, client_id):
    trail = harness.client.get(
        f"/v1/submissions/{client_id}/audit", headers=harness.auth("Audit.Read")
    ).json()
    [entry] = [entry for entry in trail if entry["action"] == "submission.erase"]
    return entry


@pytest.mark.parametrize(
    ("body", "recorded"),
    [
        ({"reason": "subject-request"}, {"reason": "subject-request"}),
        ({"reason": "consent-withdrawn", "note": None}, {"reason": "consent-withdrawn"}),
        ({"reason": "not-needed", "note": "  "}, {"reason": "not-needed"}),
        (
            {"reason": "not-needed", "note": "Sent twice; the later one is kept."},
            {"reason": "not-needed", "note": "Sent twice; the later one is kept."},
        ),
        (
            {"reason": "other", "note": "  Ticket 4711:\nasked by the DPO.  "},
            {"reason": "other", "note": "Ticket 4711:\nasked by the DPO."},
        ),
    ],
)
def test_the_reason_and_note_go_into_the_erasures_audit_entry(harness, body, recorded):
    client_id = harness.seed().client_id
    response = _erase_because(harness, client_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["erasedAt"] and "company" not in response.json()
    entry = _erasure_entry(harness, client_id)
    assert entry["actor"] == "dpo@example.com"
    assert {key: value for key, value in entry["details"].items() if key != "requestId"} == recorded
    assert entry["details"]["requestId"]
    # Written through the chain like every entry: the trail still verifies.
    check = harness.client.get("/v1/audit/verify", headers=harness.auth("Audit.Read")).json()
    assert check["intact"] is True


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(None, None), (b"", "application/json"), (b"", "application/x-www-form-urlencoded")],
)
def test_without_a_body_the_erasure_works_as_before_and_the_reason_is_unstated(
    harness, content, content_type
):
    client_id = harness.seed().client_id
    headers = harness.auth(*ERASE, sub="dpo@example.com")
    if content_type:
        headers["content-type"] = content_type
    response = harness.client.post(
        f"/v1/submissions/{client_id}/erase", content=content, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["clientId"] == client_id and response.json()["erasedAt"]
    assert _erasure_entry(harness, client_id)["details"]["reason"] == "unstated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "because"}, "reason"),
        ({"reason": "retention"}, "reason"),  # the retention job's own, not staff's to claim
        ({"reason": "unstated"}, "reason"),
        ({"reason": "SUBJECT-REQUEST"}, "reason"),
        ({"note": "no reason"}, "reason"),
        ({}, "reason"),
        ({"reason": "other"}, "note"),
        ({"reason": "other", "note": " \n "}, "note"),
        ({"reason": "not-needed", "note": "x" * 501}, "note"),
        ({"reason": "not-needed", "note": 42}, "note"),
        ({"reason": "not-needed", "note": "tab\tand newline\n are fine, NUL\x00 is not"}, "note"),
        ({"reason": "not-needed", "note": "zero\u200bwidth"}, "note"),
        ({"reason": "not-needed", "note": "text \u202edirection"}, "note"),
        ({"reason": "not-needed", "note": "line\u2028separator"}, "note"),
        ({"reason": "not-needed", "comment": "x"}, "comment"),
        # The note outlives the record: contact details the log mask knows are refused.
        ({"reason": "other", "note": "asked by ada@example.com"}, "note"),
        ({"reason": "other", "note": "she called from +44 20 7946 0958"}, "note"),
        ({"reason": "other", "note": "call back on 020 7946 0958"}, "note"),
    ],
)
def test_a_bad_reason_or_note_is_422_naming_the_field_and_nothing_is_erased(harness, body, field):
    client_id = harness.seed().client_id
    response = _erase_because(harness, client_id, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["path"] for error in response.json()["errors"]]
    record = harness.client.get(
        f"/v1/submissions/{client_id}", headers=harness.auth("Submissions.Read")
    ).json()
    assert "company" in record and record.get("erasedAt") is None


def test_a_note_of_500_characters_is_kept_whole(harness):
    client_id = harness.seed().client_id
    note = "n" * 500
    assert _erase_because(harness, client_id, {"reason": "other", "note": note}).status_code == 200
    assert _erasure_entry(harness, client_id)["details"]["note"] == note


def test_erasing_again_with_a_reason_records_that_reason_too(harness):
    client_id = harness.seed().client_id
    assert _erase(harness, client_id).status_code == 200
    again = _erase_because(harness, client_id, {"reason": "subject-request"})
    assert again.status_code == 200
    trail = harness.client.get(
        f"/v1/submissions/{client_id}/audit", headers=harness.auth("Audit.Read")
    ).json()
    reasons = [e["details"]["reason"] for e in trail if e["action"] == "submission.erase"]
    assert reasons == ["unstated", "subject-request"]


def test_the_reasons_are_an_enum_in_the_openapi_document(harness):
    document = harness.client.get("/openapi.json").json()
    erase = document["paths"]["/v1/submissions/{clientId}/erase"]["post"]
    assert not erase["requestBody"].get("required", False)
    schemas = document["components"]["schemas"]
    assert schemas["ErasureReason"]["enum"] == [
        "subject-request",
        "consent-withdrawn",
        "not-needed",
        "other",
    ]
    assert schemas["ErasureRequest"]["required"] == ["reason"]
    assert schemas["ErasureRequest"]["properties"]["note"]["anyOf"][0]["maxLength"] == 500
    for status in ("400", "413", "422"):
        assert list(erase["responses"][status]["content"]) == ["application/problem+json"]
