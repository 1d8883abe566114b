import json

from intake_core.domain.events import SUBMISSION_CREATED, CloudEvent, submission_created
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
