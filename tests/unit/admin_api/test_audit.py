"""Every staff read, search, export, change and erasure lands in the audit trail."""

from __future__ import annotations

import json

from intake_core.auth import ROLES


def _trail(harness, client_id, sub="auditor@example.com"):
    response = harness.client.get(
        f"/v1/submissions/{client_id}/audit", headers=harness.auth("Audit.Read", sub=sub)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _audit_rows(harness, action):
    with harness.db() as connection:
        return connection.execute(
            "SELECT * FROM audit WHERE action = ? ORDER BY seq", (action,)
        ).fetchall()


def test_the_trail_lists_staff_actions_with_their_actor(harness):
    client_id = harness.seed().client_id
    harness.client.get(
        f"/v1/submissions/{client_id}",
        headers=harness.auth("Submissions.Read", sub="reader@example.com"),
    )
    harness.client.patch(
        f"/v1/submissions/{client_id}",
        json={"status": "contacted"},
        headers=harness.auth("Submissions.Manage", sub="manager@example.com"),
    )
    trail = _trail(harness, client_id)
    assert [(entry["action"], entry["actor"]) for entry in trail] == [
        ("submission.created", "public"),
        ("submission.read", "reader@example.com"),
        ("submission.status_change", "manager@example.com"),
    ]
    change = trail[-1]
    assert set(change) == {"at", "action", "actor", "details"}
    assert change["details"]["from"] == "received" and change["details"]["to"] == "contacted"
    assert change["details"]["requestId"]
    # Reading the trail is itself audited.
    assert _trail(harness, client_id)[-1]["action"] == "audit.read"


def test_the_request_id_is_taken_from_x_request_id(harness):
    client_id = harness.seed().client_id
    response = harness.client.get(
        f"/v1/submissions/{client_id}",
        headers={**harness.auth("Submissions.Read"), "X-Request-ID": "trace-abc-123"},
    )
    assert response.headers["x-request-id"] == "trace-abc-123"
    assert _trail(harness, client_id)[-1]["details"]["requestId"] == "trace-abc-123"


def test_a_hostile_x_request_id_is_replaced(harness):
    client_id = harness.seed().client_id
    response = harness.client.get(
        f"/v1/submissions/{client_id}",
        headers={**harness.auth("Submissions.Read"), "X-Request-ID": "<script>" + "x" * 500},
    )
    assert response.status_code == 200
    generated = response.headers["x-request-id"]
    assert "<" not in generated and len(generated) == 32
    assert _trail(harness, client_id)[-1]["details"]["requestId"] == generated


def test_a_search_is_audited_without_the_searched_text(harness):
    harness.seed()
    response = harness.client.get(
        "/v1/submissions",
        params={"q": "ada@example.com", "industry": "technology", "limit": 10},
        headers=harness.auth("Submissions.Read", sub="searcher@example.com"),
    )
    assert response.status_code == 200
    [row] = _audit_rows(harness, "submission.search")
    assert row["actor"] == "searcher@example.com"
    assert row["client_id"] is None
    details = json.loads(row["details"])
    assert details["industry"] == "technology"
    assert details["qLength"] == str(len("ada@example.com"))
    assert details["results"] == "1"
    assert "ada@" not in row["details"]  # request ids are hex: a bare "ada" may occur


def test_a_search_names_the_records_each_page_showed(harness):
    """A list shows names and emails: which records staff saw is in the trail, page by page."""
    ids = [harness.seed(name=f"Quokka {n} Ltd").client_id for n in range(3)]
    harness.seed(name="Wombat Ltd")
    headers = harness.auth("Submissions.Read")
    first = harness.client.get(
        "/v1/submissions", params={"q": "quokka", "limit": 2}, headers=headers
    )
    token = first.json()["continuationToken"]
    harness.client.get(
        "/v1/submissions", params={"q": "quokka", "limit": 2, "continuationToken": token},
        headers=headers,
    )  # fmt: skip
    pages = [
        json.loads(row["details"])["listed"] for row in _audit_rows(harness, "submission.search")
    ]
    shown = [item["clientId"] for item in first.json()["items"]]
    assert pages[0] == " ".join(shown)
    assert sorted(" ".join(pages).split()) == sorted(ids)


def test_a_search_by_client_id_keeps_the_id(harness):
    client_id = harness.seed().client_id
    harness.client.get(
        "/v1/submissions", params={"q": client_id.lower()}, headers=harness.auth("Submissions.Read")
    )
    [row] = _audit_rows(harness, "submission.search")
    assert json.loads(row["details"])["qClientId"] == client_id


def test_an_export_is_audited_with_its_filters(harness):
    harness.seed()
    response = harness.client.get(
        "/v1/submissions.csv",
        params={"q": "Lovelace", "status": "received"},
        headers=harness.auth("Submissions.Export", sub="exporter@example.com"),
    )
    assert response.status_code == 200
    [row] = _audit_rows(harness, "submission.export")
    assert row["actor"] == "exporter@example.com"
    details = json.loads(row["details"])
    assert details["status"] == "received" and details["qLength"] == "8"
    assert "Lovelace" not in row["details"]


def test_each_exported_record_has_the_export_in_its_own_trail(harness):
    exported = harness.seed(industry="healthcare")
    left_out = harness.seed(industry="retail")
    response = harness.client.get(
        "/v1/submissions.csv",
        params={"industry": "healthcare"},
        headers={
            **harness.auth("Submissions.Export", sub="exporter@example.com"),
            "X-Request-ID": "export-42",
        },
    )
    assert response.status_code == 200
    assert exported.client_id in response.text and left_out.client_id not in response.text

    [entry] = [
        e for e in _trail(harness, exported.client_id) if e["action"] == "submission.exported"
    ]
    assert entry["actor"] == "exporter@example.com"
    assert entry["details"] == {"requestId": "export-42"}  # the export's own entry has its filters
    [summary] = _audit_rows(harness, "submission.export")
    assert json.loads(summary["details"])["requestId"] == "export-42"
    assert "submission.exported" not in [e["action"] for e in _trail(harness, left_out.client_id)]


def test_failed_attempts_are_not_recorded_as_actions(harness):
    client_id = harness.seed().client_id
    harness.client.patch(
        f"/v1/submissions/{client_id}", json={"status": "won"}, headers=harness.auth(*ROLES)
    )
    harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth("Audit.Read"))
    actions = [entry["action"] for entry in _trail(harness, client_id)]
    assert actions == ["submission.created"]


def test_the_trail_of_an_unknown_record_is_404(harness):
    response = harness.client.get(
        "/v1/submissions/CL-0000-0000-0000/audit", headers=harness.auth("Audit.Read")
    )
    assert response.status_code == 404
