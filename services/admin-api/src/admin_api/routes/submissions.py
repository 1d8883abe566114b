"""Staff routes over submissions: each translates HTTP into one call of a named module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from admin_api import erasure, export, reading, subject_access, workflow
from admin_api.deps import ClientId, ContextDep, StoreDep, json_only
from admin_api.filters import PageRequest, SubmissionFilters
from admin_api.openapi import CHANGE_PROBLEMS, ERASE_PROBLEMS, RECORD_PROBLEMS, STAFF_PROBLEMS
from admin_api.schemas import (
    AuditRecord,
    ErasureRequest,
    StatusChange,
    StatusChanged,
    SubjectExport,
    SubmissionPage,
)
from admin_api.staff import (
    AuditReader,
    Eraser,
    Exporter,
    Reader,
    StatusChanger,
    may_erase,
    may_manage,
)
from intake_core.domain.models import ErasedSubmission, Submission
from intake_core.ports.staff import StoredRecord

router = APIRouter(tags=["submissions"], responses=STAFF_PROBLEMS)

Record = Submission | ErasedSubmission
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=1024)]
# Optional: an erasure sent without a body (as before there was one) is recorded as unstated.
ErasureGrounds = Annotated[
    ErasureRequest | None,
    Body(description="Why the record is erased; optional (without it: recorded as unstated)"),
]


def _with_etag(stored: StoredRecord, response: Response) -> Record:
    response.headers["ETag"] = workflow.etag(stored.version)
    return stored.record


@router.get("/v1/submissions", response_model=SubmissionPage)
async def list_submissions(
    staff: Reader,
    page: Annotated[PageRequest, Query()],
    context: ContextDep,
) -> SubmissionPage:
    """Newest first. ``continuationToken`` from one page fetches the next with the same filters."""
    return await reading.search_submissions(context, page, staff)


@router.get(
    "/v1/submissions.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_submissions(
    staff: Exporter,
    filters: Annotated[SubmissionFilters, Query()],
    store: StoreDep,
) -> StreamingResponse:
    chunks = await export.start_export(store, filters, staff)
    filename = f"submissions-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv"
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/v1/submissions/{clientId}", response_model=Record, responses=RECORD_PROBLEMS)
async def get_submission(
    staff: Reader,
    client_id: ClientId,
    context: ContextDep,
) -> Response:
    """The whole record, or its tombstone once erased. ``ETag`` is its version."""
    answer = await reading.read_submission(context, client_id, staff)
    return Response(
        answer.body,
        media_type="application/json",
        headers={"ETag": workflow.etag(answer.version)},
    )


# A route's ``dependencies`` run before its parameters, in this order: the role first, so a
# caller without it hears 403 whatever it sent, then json_only, so a body that is not JSON hears
# 415 rather than a 422 about the model (or about the clientId).
@router.patch(
    "/v1/submissions/{clientId}",
    response_model=StatusChanged,
    responses=CHANGE_PROBLEMS,
    dependencies=[Depends(may_manage), Depends(json_only)],
)
async def change_status(
    staff: StatusChanger,
    client_id: ClientId,
    change: StatusChange,
    context: ContextDep,
    response: Response,
    if_match: IfMatch = None,
) -> StatusChanged:
    """``received → contacted → qualified → won|lost``; 409 otherwise, 412 on a stale If-Match.
    Answers the new status and ETag only: reading the record takes ``Submissions.Read``."""
    stored = await workflow.change_status(
        context, client_id, change.status, if_match=if_match, staff=staff
    )
    response.headers["ETag"] = workflow.etag(stored.version)
    return StatusChanged(client_id=client_id, status=change.status)


@router.get(
    "/v1/submissions/{clientId}/audit", response_model=list[AuditRecord], responses=RECORD_PROBLEMS
)
async def audit_trail(
    staff: AuditReader, client_id: ClientId, store: StoreDep
) -> list[AuditRecord]:
    return await reading.read_audit_trail(store, client_id, staff)


@router.get(
    "/v1/submissions/{clientId}/subject-export",
    response_model=SubjectExport,
    responses={200: {"content": {"application/json": {}}}, **RECORD_PROBLEMS},
)
async def subject_export(staff: Exporter, client_id: ClientId, store: StoreDep) -> JSONResponse:
    """The data subject's record and audit trail, as a JSON file to hand to them."""
    export_ = await subject_access.export_subject_data(store, client_id, staff)
    return JSONResponse(
        export_.model_dump(mode="json", by_alias=True),
        headers={
            "Content-Disposition": f'attachment; filename="subject-export-{client_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/v1/submissions/{clientId}/erase",
    response_model=ErasedSubmission,
    responses=ERASE_PROBLEMS,
    dependencies=[Depends(may_erase), Depends(json_only)],  # in this order: see change_status
)
async def erase_submission(
    staff: Eraser,
    client_id: ClientId,
    context: ContextDep,
    response: Response,
    grounds: ErasureGrounds = None,
) -> Record:
    """Removes the personal data everywhere the system keeps it; answers the tombstone.

    The optional body says why (``reason``, and a ``note`` that ``other`` requires); both go
    into the erasure's audit entry, which stays after the record is gone: no personal data in
    the note. Without a body the reason is recorded as ``unstated``."""
    stored = await erasure.erase_submission(context, client_id, staff, grounds=grounds)
    return _with_etag(stored, response)
