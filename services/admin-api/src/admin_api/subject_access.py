"""A data subject's copy of their data (GDPR art. 15 and 20): the record and its audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

from admin_api.audit_log import StaffRequest
from admin_api.schemas import AuditRecord, SubjectExport
from intake_core.domain.audit import AuditAction
from intake_core.ports.staff import StaffSubmissionStore, SubmissionNotFound


async def export_subject_data(
    store: StaffSubmissionStore, client_id: str, staff: StaffRequest
) -> SubjectExport:
    """Audited before the trail is read, so the copy shows its own export too."""
    stored = await store.get_record(client_id)
    if stored is None:
        raise SubmissionNotFound(client_id)
    await store.append_audit(staff.entry(AuditAction.SUBJECT_EXPORT, client_id))
    trail = await store.audit_trail(client_id)
    return SubjectExport(
        exported_at=datetime.now(UTC),
        record=stored.record,
        audit_trail=[AuditRecord.of(entry) for entry in trail],
    )
