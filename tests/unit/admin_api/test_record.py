"""GET and PATCH /v1/submissions/{clientId}: the whole record, the workflow, If-Match."""

from __future__ import annotations

import pytest

READ = ("Submissions.Read",)
MANAGE = ("Submissions.Manage",)


def _patch(harness, client_id, body, **headers):
    return harness.client.patch(
        f"/v1/submissions/{client_id}", json=body, headers={**harness.auth(*MANAGE), **headers}
    )


def test_the_whole_record_in_camel_case_with_an_etag(harness):
    submission = harness.seed(notes="Call after 3pm")
    response = harness.client.get(
        f"/v1/submissions/{submission.client_id}", headers=harness.auth(*READ)
    )
    assert response.status_code == 200
    assert response.json() == submission.model_dump(mode="json", by_alias=True)
    assert response.json()["company"]["contact"]["email"] == "ada@example.com"
    assert response.json()["engagement"]["notes"] == "Call after 3pm"
    assert response.headers["etag"] == '"1"'


def test_the_client_id_is_normalised(harness):
    client_id = harness.seed().client_id
    compact = client_id.replace("-", "").lower()
    for typed in (compact, client_id.lower(), f" {client_id} "):
        response = harness.client.get(f"/v1/submissions/{typed}", headers=harness.auth(*READ))
        assert response.status_code == 200, typed
        assert response.json()["clientId"] == client_id


@pytest.mark.parametrize("client_id", ["nope", "CL-0000-0000-0001", "CL-" + "A" * 60, "%00", "💥"])
def test_a_malformed_client_id_is_422(harness, client_id):
    response = harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth(*READ))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_an_unknown_client_id_is_404(harness):
    response = harness.client.get("/v1/submissions/CL-0000-0000-0000", headers=harness.auth(*READ))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_workflow_runs_received_contacted_qualified_won(harness):
    client_id = harness.seed().client_id
    for status, version in (("contacted", "2"), ("qualified", "3"), ("won", "4")):
        response = _patch(harness, client_id, {"status": status})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
        assert response.headers["etag"] == f'"{version}"'
    detail = harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth(*READ))
    assert detail.json()["status"] == "won"


def test_a_status_change_answers_the_new_status_not_the_record(harness):
    """Manage alone changes a status; the record's contact details are for Read."""
    client_id = harness.seed().client_id
    response = _patch(harness, client_id, {"status": "contacted"})
    assert response.status_code == 200, response.text
    assert response.json() == {"clientId": client_id, "status": "contacted"}
    assert "ada@example.com" not in response.text
    assert response.headers["etag"] == '"2"'
    # The same for a compact, lower-case Client ID: the answer names the record's own form.
    compact = client_id.replace("-", "").lower()
    response = _patch(harness, compact, {"status": "qualified"})
    assert response.json() == {"clientId": client_id, "status": "qualified"}


def test_qualified_can_also_be_lost(harness):
    client_id = harness.seed().client_id
    for status in ("contacted", "qualified", "lost"):
        assert _patch(harness, client_id, {"status": status}).status_code == 200


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "qualified"),
        ([], "won"),
        ([], "received"),
        (["contacted"], "received"),
        (["contacted", "qualified", "won"], "lost"),
        (["contacted", "qualified", "lost"], "contacted"),
    ],
)
def test_a_transition_not_allowed_is_409_and_changes_nothing(harness, path, target):
    client_id = harness.seed().client_id
    for status in path:
        assert _patch(harness, client_id, {"status": status}).status_code == 200
    response = _patch(harness, client_id, {"status": target})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    current = harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth(*READ))
    assert current.json()["status"] == (path[-1] if path else "received")


@pytest.mark.parametrize(
    "body",
    [
        {"status": "archived"},
        {"status": "CONTACTED"},
        {"status": None},
        {"status": 1},
        {},
        {"status": "contacted", "extra": "field"},
        [],
        "contacted",
    ],
)
def test_an_unknown_status_or_bad_body_is_422(harness, body):
    client_id = harness.seed().client_id
    response = _patch(harness, client_id, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_body_that_is_not_json_is_415(harness):
    client_id = harness.seed().client_id
    response = harness.client.patch(
        f"/v1/submissions/{client_id}",
        content=b"status=contacted",
        headers={**harness.auth(*MANAGE), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415, response.text


def test_a_stale_if_match_is_412_and_the_current_one_succeeds(harness):
    client_id = harness.seed().client_id
    etag = harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth(*READ)).headers[
        "etag"
    ]
    first = _patch(harness, client_id, {"status": "contacted"}, **{"If-Match": etag})
    assert first.status_code == 200
    stale = _patch(harness, client_id, {"status": "qualified"}, **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    fresh = _patch(
        harness, client_id, {"status": "qualified"}, **{"If-Match": first.headers["etag"]}
    )
    assert fresh.status_code == 200


@pytest.mark.parametrize("if_match", ["*", 'W/"1"', '"7", "1"'])
def test_if_match_accepts_star_weak_tags_and_lists(harness, if_match):
    client_id = harness.seed().client_id
    assert (
        _patch(harness, client_id, {"status": "contacted"}, **{"If-Match": if_match}).status_code
        == 200
    )


@pytest.mark.parametrize("if_match", ['"2"', "1", "garbage", '""', "x" * 1000])
def test_if_match_that_does_not_name_the_version_is_412(harness, if_match):
    client_id = harness.seed().client_id
    assert (
        _patch(harness, client_id, {"status": "contacted"}, **{"If-Match": if_match}).status_code
        == 412
    )


def test_patch_on_an_unknown_record_is_404(harness):
    assert _patch(harness, "CL-0000-0000-0000", {"status": "contacted"}).status_code == 404


def test_an_oversized_body_is_413(harness):
    client_id = harness.seed().client_id
    response = _patch(harness, client_id, {"status": "contacted", "pad": "x" * 100_000})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def _race_with_a_colleague(harness, monkeypatch, colleague_status):
    """The first write loses a race: a colleague changes the record between our read and write."""
    original = harness.store.update_status
    raced = []

    async def racing_update(client_id, new_status, expected_version, audit):
        if not raced:
            raced.append(True)
            await original(client_id, colleague_status, expected_version, audit)
        return await original(client_id, new_status, expected_version, audit)

    monkeypatch.setattr(harness.store, "update_status", racing_update)


def test_without_if_match_a_lost_race_is_decided_again_on_the_fresh_record(harness, monkeypatch):
    from intake_core.domain.models import Status

    client_id = harness.seed().client_id
    _race_with_a_colleague(harness, monkeypatch, Status.CONTACTED)
    # We wanted received → contacted; the colleague got there first: contacted → contacted is 409.
    response = _patch(harness, client_id, {"status": "contacted"})
    assert response.status_code == 409
    current = harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth(*READ))
    assert current.json()["status"] == "contacted"
    assert current.headers["etag"] == '"2"'


def test_with_if_match_a_lost_race_is_412(harness, monkeypatch):
    from intake_core.domain.models import Status

    client_id = harness.seed().client_id
    _race_with_a_colleague(harness, monkeypatch, Status.CONTACTED)
    response = _patch(harness, client_id, {"status": "contacted"}, **{"If-Match": '"1"'})
    assert response.status_code == 412


def test_a_lost_race_that_leaves_the_change_allowed_is_applied_on_the_fresh_record(
    harness, monkeypatch
):
    from intake_core.domain.models import Status

    client_id = harness.seed().client_id
    # A colleague's write lands between our read and ours but leaves the record received.
    _race_with_a_colleague(harness, monkeypatch, Status.RECEIVED)
    response = _patch(harness, client_id, {"status": "contacted"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "contacted"
    assert response.headers["etag"] == '"3"'


def test_a_record_that_changes_under_every_try_is_409_not_a_loop(harness, monkeypatch):
    from intake_core.domain.models import Status

    client_id = harness.seed().client_id
    original = harness.store.update_status

    async def always_beaten(client_id, new_status, expected_version, audit):
        await original(client_id, Status.RECEIVED, expected_version, audit)
        return await original(client_id, new_status, expected_version, audit)

    monkeypatch.setattr(harness.store, "update_status", always_beaten)
    response = _patch(harness, client_id, {"status": "contacted"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    current = harness.client.get(f"/v1/submissions/{client_id}", headers=harness.auth(*READ))
    assert current.json()["status"] == "received"
