"""CSV export, streamed page by page so the whole set never sits in memory.

Cells a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) get a leading
apostrophe (the OWASP advice), so a company called ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Iterable

from admin_api.audit_log import StaffRequest
from admin_api.filters import SubmissionFilters
from admin_api.schemas import SubmissionSummary
from intake_core.domain.audit import AuditAction
from intake_core.ports.staff import StaffSubmissionStore

EXPORT_PAGE_SIZE = 100
COLUMNS = tuple(field.alias or name for name, field in SubmissionSummary.model_fields.items())
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Lets spreadsheet programs recognise UTF-8, so names with accents open correctly.
_BYTE_ORDER_MARK = "\ufeff"


def neutralise(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_TRIGGERS) else cell


def _rows_text(rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue()


async def _csv_chunks(
    store: StaffSubmissionStore, filters: SubmissionFilters, staff: StaffRequest
) -> AsyncIterator[str]:
    yield _BYTE_ORDER_MARK + _rows_text([COLUMNS])
    position: str | None = None
    while True:
        page = await store.search_hits(filters.search_query(EXPORT_PAGE_SIZE, position))
        # Each record's trail has the export before its row leaves. Should that fail, the
        # download breaks off there: no record goes out unrecorded.
        await asyncio.gather(
            *(
                store.append_audit(staff.entry(AuditAction.EXPORTED, hit.client_id))
                for hit in page.items
            )
        )
        summaries = (SubmissionSummary.of(item).model_dump(mode="json") for item in page.items)
        yield _rows_text([str(value) for value in summary.values()] for summary in summaries)
        if page.continuation_token is None:
            return
        position = page.continuation_token


async def start_export(
    store: StaffSubmissionStore, filters: SubmissionFilters, staff: StaffRequest
) -> AsyncIterator[str]:
    """Audit the export, then hand back the stream of CSV text (which audits each record in
    it as it goes)."""
    await store.append_audit(staff.entry(AuditAction.EXPORT, details=filters.audit_details()))
    return _csv_chunks(store, filters, staff)
