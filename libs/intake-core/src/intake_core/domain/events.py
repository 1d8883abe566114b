"""``SubmissionCreated`` as a CloudEvents 1.0 structured-mode JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intake_core.domain.entropy import random_uuid
from intake_core.domain.models import (
    BudgetRange,
    CamelModel,
    Industry,
    ServiceType,
    Submission,
    Timeline,
)

SUBMISSION_CREATED = "intake.submission.created.v1"
SOURCE = "/intake-api/submissions"


class SubmissionCreatedData(CamelModel):
    """The summary the sales team needs, and nothing more.

    On the wire by its camelCase aliases, as the event is pinned; a field a later publisher adds
    is ignored. Its strings were bounded as the submission's, so none is bounded again here.
    """

    model_config = ConfigDict(extra="ignore", str_max_length=None)

    client_id: str
    submitted_at: datetime
    company_name: str
    industry: Industry
    company_size: int
    contact_name: str
    contact_email: str
    contact_phone: str
    service_type: ServiceType
    timeline: Timeline
    budget_range: BudgetRange
    scope: str


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope (structured mode)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: str = "1.0"
    type: str
    source: str
    id: str
    time: datetime
    subject: str | None = None
    datacontenttype: str = "application/json"
    traceparent: str | None = Field(default=None, description="W3C trace context extension")
    data: dict[str, Any]

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> CloudEvent:
        return cls.model_validate_json(text)


def submission_created(submission: Submission, traceparent: str | None = None) -> CloudEvent:
    company, engagement = submission.company, submission.engagement
    data = SubmissionCreatedData(
        client_id=submission.client_id,
        submitted_at=submission.submitted_at,
        company_name=company.name,
        industry=company.industry,
        company_size=company.size,
        contact_name=company.contact.name,
        contact_email=company.contact.email,
        contact_phone=company.contact.phone,
        service_type=engagement.service_type,
        timeline=engagement.timeline,
        budget_range=engagement.budget_range,
        scope=engagement.scope,
    )
    return CloudEvent(
        type=SUBMISSION_CREATED,
        source=SOURCE,
        id=str(random_uuid()),
        time=submission.submitted_at,
        subject=submission.client_id,
        traceparent=traceparent,
        data=data.model_dump(mode="json", by_alias=True),
    )
