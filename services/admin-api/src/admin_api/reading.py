"""Staff reads: search, one record, its audit trail, the dashboard figures. Each read is
audited before it answers, so nothing is shown that the trail does not record: an answer served
from the read cache too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admin_api.answer_cache import CachedAnswer
from admin_api.audit_log import StaffRequest
from admin_api.context import AdminContext
from admin_api.filters import PageRequest
from admin_api.paging import InvalidPageToken
from admin_api.problems import InvalidInput
from admin_api.schemas import (
    AuditChainCheck,
    AuditRecord,
    DashboardFigures,
    SubmissionPage,
    SubmissionSummary,
)
from intake_core.domain.audit import AuditAction
from intake_core.ports.staff import StaffSubmissionStore, SubmissionNotFound


async def search_submissions(
    context: AdminContext, page: PageRequest, staff: StaffRequest
) -> SubmissionPage:
    """Newest first; the next page's token is signed and bound to these filters."""
    store, tokens = context.store, context.page_tokens
    position = None
    if page.continuation_token:
        try:
            position = tokens.open(page.continuation_token, page.key())
        except InvalidPageToken as error:
            raise InvalidInput("continuationToken", str(error)) from None
    found = await store.search_hits(page.search_query(page.limit, position))
    # Which records the page showed (names and emails are on it): a record's appearances in
    # staff's lists can be found in the trail, as its reads and exports are.
    listed = " ".join(item.client_id for item in found.items)
    details = {**page.audit_details(), "results": str(len(found.items)), "listed": listed}
    await store.append_audit(staff.entry(AuditAction.SEARCH, details=details))
    next_token = (
        tokens.sign(found.continuation_token, page.key()) if found.continuation_token else None
    )
    return SubmissionPage(
        items=[SubmissionSummary.of(item) for item in found.items],
        continuation_token=next_token,
    )


async def read_submission(
    context: AdminContext, client_id: str, staff: StaffRequest
) -> CachedAnswer:
    answer = await context.records.read(client_id, context.store.get_record)
    if answer is None:
        raise SubmissionNotFound(client_id)
    await context.store.append_audit(staff.entry(AuditAction.READ, client_id))
    return answer


async def read_figures(context: AdminContext, days: int, staff: StaffRequest) -> CachedAnswer:
    """The last ``days`` UTC days, today included. Audited like a search (no record named):
    counts hold no personal data, but every staff read is in the trail."""
    last_day = datetime.now(UTC).date()
    first_day = last_day - timedelta(days=days - 1)
    store = context.store

    async def count() -> CachedAnswer:
        counted = await store.submission_figures(first_day, last_day)
        answer = DashboardFigures.of(counted, first_day, last_day)
        return CachedAnswer("", answer.model_dump_json(by_alias=True).encode())

    answer = await context.figures.read(first_day, last_day, count)
    await store.append_audit(staff.entry(AuditAction.FIGURES_READ, details={"days": str(days)}))
    return answer


async def read_audit_trail(
    store: StaffSubmissionStore, client_id: str, staff: StaffRequest
) -> list[AuditRecord]:
    if await store.get_record(client_id) is None:
        raise SubmissionNotFound(client_id)
    trail = await store.audit_trail(client_id)
    await store.append_audit(staff.entry(AuditAction.AUDIT_READ, client_id))
    return [AuditRecord.of(entry) for entry in trail]


async def verify_audit_chain(store: StaffSubmissionStore, staff: StaffRequest) -> AuditChainCheck:
    """Checked first, then audited: the check describes the trail as it was asked about."""
    report = await store.verify_audit_chain()
    details = {"intact": str(report.intact).lower(), "entries": str(report.entries)}
    await store.append_audit(staff.entry(AuditAction.AUDIT_VERIFY, details=details))
    return AuditChainCheck.of(report)
