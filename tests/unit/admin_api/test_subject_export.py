"""GET /v1/submissions/{clientId}/subject-export: the subject's record and trail as a JSON file."""

from __future__ import annotations

import json

from intake_core.auth import ROLES

EXPORT = ("Submissions.Export",)


def _export(harness, client_id, sub="dpo@example.com"):
    return harness.client.get(
        f"/v1/submissions/{client_id}/subject-export", headers=harness.auth(*EXPORT, sub=sub)
    )


def test_the_export_is_the_whole_record_and_its_trail_as_an_attachment(harness):
    submission = harness.seed(notes="Call after 3pm")
    harness.seed(name="Fabrikam", email="grace@fabrikam.example")
    harness.client.get(
        f"/v1/submissions/{submission.client_id}",
        headers=harness.auth("Submissions.Read", sub="reader@example.com"),
    )
    response = _export(harness, submission.client_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="subject-export-{submission.client_id}.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    exported = response.json()
    assert set(exported) == {"exportedAt", "record", "auditTrail"}
    record = exported["record"]
    assert record == json.loads(submission.model_dump_json(by_alias=True)) | {
        "submittedAt": "2026-03-01T12:00:00Z"
    }
    assert record["company"]["contact"]["email"] == "ada@example.com"
    assert record["engagement"]["notes"] == "Call after 3pm"
    assert record["consent"] == {"accepted": True, "privacyNoticeVersion": "2026-01"}
    assert [(e["action"], e["actor"]) for e in exported["auditTrail"]] == [
        ("submission.created", "public"),
        ("submission.read", "reader@example.com"),
        ("submission.subject_export", "dpo@example.com"),
    ]
    assert "grace" not in response.text and "Fabrikam" not in response.text


def test_the_export_is_audited(harness):
    client_id = harness.seed().client_id
    _export(harness, client_id, sub="dpo@example.com")
    with harness.db() as connection:
        [row] = connection.execute(
            "SELECT * FROM audit WHERE action = 'submission.subject_export'"
        ).fetchall()
    assert row["actor"] == "dpo@example.com" and row["client_id"] == client_id
    assert "ada@" not in row["details"] and "lovelace" not in row["details"].lower()


def test_an_erased_subject_gets_the_tombstone_and_trail(harness):
    client_id = harness.seed().client_id
    harness.client.post(f"/v1/submissions/{client_id}/erase", headers=harness.auth(*ROLES))
    exported = _export(harness, client_id).json()
    assert exported["record"]["erasedAt"] and "company" not in exported["record"]
    assert [e["action"] for e in exported["auditTrail"]][-2:] == [
        "submission.erase",
        "submission.subject_export",
    ]
    text = json.dumps(exported).lower()
    assert "ada@" not in text and "lovelace" not in text and "contoso" not in text


def test_unknown_and_malformed_ids(harness):
    assert _export(harness, "CL-0000-0000-0000").status_code == 404
    assert _export(harness, "cl-0000-0000-0001").status_code == 422
    assert _export(harness, "%3Cscript%3E").status_code == 422
    with harness.db() as connection:
        audited = connection.execute(
            "SELECT count(*) FROM audit WHERE action = 'submission.subject_export'"
        ).fetchone()[0]
    assert audited == 0  # nothing was exported, so nothing is recorded as exported


def test_a_typed_client_id_is_normalised(harness):
    client_id = harness.seed().client_id
    typed = client_id.lower().replace("-", "")
    response = _export(harness, typed)
    assert response.status_code == 200
    assert response.json()["record"]["clientId"] == client_id
