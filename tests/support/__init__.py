"""Test data shared by every suite (import as ``from support import …``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from intake_core.domain.client_id import new_client_id
from intake_core.domain.models import Submission, SubmissionCreate

VALID_BODY: dict[str, Any] = {
    "company": {
        "name": "Contoso Ltd",
        "industry": "technology",
        "size": 250,
        "address": {
            "line1": "1 Main St",
            "city": "London",
            "postalCode": "SW1A 1AA",
            "country": "GB",
        },
        "contact": {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+44 20 7946 0958",
        },
    },
    "engagement": {
        "serviceType": "cloud-migration",
        "scope": "Move 40 services to AKS",
        "timeline": "3-6-months",
        "budgetRange": "100k-250k",
    },
    "consent": {"accepted": True, "privacyNoticeVersion": "2026-01"},
}


def make_submission(body: dict[str, Any] | None = None, **changes: Any) -> Submission:
    create = SubmissionCreate.model_validate(body or VALID_BODY)
    return Submission(
        client_id=changes.pop("client_id", None) or new_client_id(),
        submitted_at=changes.pop("submitted_at", None) or datetime.now(UTC),
        company=create.company,
        engagement=create.engagement,
        consent=create.consent,
        **changes,
    )


async def stored_event(store: Any, body: dict[str, Any] | None = None) -> Any:
    """Save a submission with its SubmissionCreated event, as intake-api does; return the event."""
    from intake_core.domain.audit import AuditEntry
    from intake_core.domain.events import submission_created

    submission = make_submission(body)
    event = submission_created(submission)
    audit = AuditEntry(
        "submission.created", "client", submission.submitted_at, submission.client_id
    )
    await store.save_new(submission, event, audit)
    return event
