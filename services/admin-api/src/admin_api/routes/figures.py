"""The dashboard's figures: submissions per day and per service type."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from admin_api import reading
from admin_api.deps import ContextDep
from admin_api.openapi import STAFF_PROBLEMS
from admin_api.schemas import DashboardFigures
from admin_api.staff import Reader

DEFAULT_DAYS = 30
MAX_DAYS = 366

router = APIRouter(tags=["figures"], responses=STAFF_PROBLEMS)

Days = Annotated[
    int,
    Query(ge=1, le=MAX_DAYS, description="How many UTC days, ending today (today included)"),
]


@router.get("/v1/figures", response_model=DashboardFigures)
async def submission_figures(
    staff: Reader,
    context: ContextDep,
    days: Days = DEFAULT_DAYS,
) -> Response:
    """Submissions per UTC day (by the status each has now) and per service type, erased ones
    included. Cached for ``ADMIN_FIGURES_CACHE_SECONDS``: staff changes show at once, new
    submissions within that time."""
    answer = await reading.read_figures(context, days=days, staff=staff)
    return Response(answer.body, media_type="application/json")
