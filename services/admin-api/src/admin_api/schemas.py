"""What admin-api sends and accepts, split by purpose (list item, page, status change, audit)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from intake_core.domain.models import (
    ErasedSubmission,
    Industry,
    ServiceType,
    Status,
    Submission,
)
from intake_core.ports import AuditChainReport, AuditEntry


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SubmissionSummary(ApiModel):
    """One row of the list (pinned shape)."""

    client_id: str
    company_name: str
    industry: Industry
    service_type: ServiceType
    status: Status
    submitted_at: datetime
    contact_name: str
    contact_email: str

    @classmethod
    def of(cls, submission: Submission) -> SubmissionSummary:
        return cls(
            client_id=submission.client_id,
            company_name=submission.company.name,
            industry=submission.company.industry,
            service_type=submission.engagement.service_type,
            status=submission.status,
            submitted_at=submission.submitted_at,
            contact_name=submission.company.contact.name,
            contact_email=submission.company.contact.email,
        )


class SubmissionPage(ApiModel):
    items: list[SubmissionSummary]
    continuation_token: str | None


class StatusChange(ApiModel):
    model_config = ConfigDict(extra="forbid")

    status: Status


class AuditRecord(ApiModel):
    at: datetime
    action: str
    actor: str
    details: dict[str, str]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditRecord:
        return cls(at=entry.at, action=entry.action, actor=entry.actor, details=entry.details)


class SubjectExport(ApiModel):
    """Everything kept about one data subject: their record (or its tombstone) and its trail."""

    exported_at: datetime
    record: Submission | ErasedSubmission
    audit_trail: list[AuditRecord]


class AuditChainCheck(ApiModel):
    """The audit chain checked end to end. Keep ``headHash`` outside the store (a ticket, a
    log sink): a later check whose chain no longer contains it shows a rewritten trail."""

    intact: bool
    entries: int
    head_hash: str
    broken_at: int | None
    problem: str | None

    @classmethod
    def of(cls, report: AuditChainReport) -> AuditChainCheck:
        return cls(
            intact=report.intact,
            entries=report.entries,
            head_hash=report.head_hash,
            broken_at=report.broken_at,
            problem=report.problem,
        )


class Problem(BaseModel):
    """An RFC 9457 problem document: every error answer (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class FieldProblem(BaseModel):
    """One bad field: where it was sent (query, path, header, body) and its name or JSON path."""

    model_config = ConfigDict(populate_by_name=True)

    in_: str = Field(alias="in")
    field: str
    message: str


class ValidationProblem(Problem):
    errors: list[FieldProblem]
