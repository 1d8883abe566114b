import json
from datetime import UTC, datetime

from intake_core.domain.events import (
    SUBMISSION_CREATED,
    CloudEvent,
    SubmissionCreatedData,
    submission_created,
)
from support import make_submission


def test_submission_created_is_a_cloudevent_with_the_pinned_fields() -> None:
    submission = make_submission()
    event = submission_created(submission, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    document = json.loads(event.to_json())
    assert document["specversion"] == "1.0"
    assert document["type"] == SUBMISSION_CREATED
    assert document["subject"] == submission.client_id
    assert document["traceparent"].startswith("00-")
    assert set(document["data"]) == {
        "clientId", "submittedAt", "companyName", "industry", "companySize", "contactName",
        "contactEmail", "contactPhone", "serviceType", "timeline", "budgetRange", "scope",
    }  # fmt: skip
    assert document["data"]["companyName"] == "Contoso Ltd"
    assert CloudEvent.from_json(event.to_json()) == event


def test_each_event_has_its_own_id() -> None:
    submission = make_submission()
    assert submission_created(submission).id != submission_created(submission).id


# The wire as it is pinned, byte for byte: what intake-api publishes and what notify reads.
WIRE = (
    '{"specversion":"1.0","type":"intake.submission.created.v1",'
    '"source":"/intake-api/submissions","id":"EVENT-ID","time":"2026-11-27T14:05:33.120000Z",'
    '"subject":"CL-EGAQ-5H6B-JHD7","datacontenttype":"application/json",'
    '"traceparent":"00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01",'
    '"data":{"clientId":"CL-EGAQ-5H6B-JHD7","submittedAt":"2026-11-27T14:05:33.120000Z",'
    '"companyName":"Contoso Ltd","industry":"technology","companySize":250,'
    '"contactName":"Ada Lovelace","contactEmail":"ada@example.com",'
    '"contactPhone":"+442079460958","serviceType":"cloud-migration","timeline":"3-6-months",'
    '"budgetRange":"100k-250k","scope":"Move 40 services to AKS"}}'
)


def test_the_published_event_is_byte_for_byte_the_pinned_wire() -> None:
    submitted = datetime(2026, 11, 27, 14, 5, 33, 120000, tzinfo=UTC)
    submission = make_submission(client_id="CL-EGAQ-5H6B-JHD7", submitted_at=submitted)
    event = submission_created(submission, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    assert event.to_json().replace(event.id, "EVENT-ID") == WIRE


def test_the_pinned_wire_is_read_back_into_the_same_data() -> None:
    data = SubmissionCreatedData.model_validate(json.loads(WIRE)["data"])
    again = CloudEvent.from_json(WIRE).model_copy(
        update={"data": data.model_dump(mode="json", by_alias=True)}
    )
    assert again.to_json() == WIRE
