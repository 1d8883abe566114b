"""``SubmissionCreated`` as a CloudEvents 1.0 structured-mode JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from intake_core.domain.entropy import random_uuid
from intake_core.domain.models import BudgetRange, Industry, ServiceType, Submission, Timeline

SUBMISSION_CREATED = "intake.submission.created.v1"
SOURCE = "/intake-api/submissions"


class SubmissionCreatedData(BaseModel):
    """The summary the sales team needs, and nothing more."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    clientId: str
    submittedAt: datetime
    companyName: str
    industry: Industry
    companySize: int
    contactName: str
    contactEmail: str
    contactPhone: str
    serviceType: ServiceType
    timeline: Timeline
    budgetRange: BudgetRange
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
        clientId=submission.client_id,
        submittedAt=submission.submitted_at,
        companyName=company.name,
        industry=company.industry,
        companySize=company.size,
        contactName=company.contact.name,
        contactEmail=company.contact.email,
        contactPhone=company.contact.phone,
        serviceType=engagement.service_type,
        timeline=engagement.timeline,
        budgetRange=engagement.budget_range,
        scope=engagement.scope,
    )
    return CloudEvent(
        type=SUBMISSION_CREATED,
        source=SOURCE,
        id=str(random_uuid()),
        time=submission.submitted_at,
        subject=submission.client_id,
        traceparent=traceparent,
        data=data.model_dump(mode="json"),
    )
