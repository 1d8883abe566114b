"""The public endpoints: they translate HTTP into a command and the result back into HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from intake_api.dependencies import (
    IdempotencyKey,
    StoreDep,
    SubmissionIntake,
    lookup_rate_limit,
)
from intake_api.problems import ApiProblem, InvalidFields
from intake_api.schemas import StatusLookupRequest, StatusLookupResult, SubmissionAccepted
from intake_api.status_lookup import look_up_status
from intake_api.submission_route import SubmissionRoute
from intake_api.submissions import SubmitOnboarding, UnknownPrivacyNotice, submit
from intake_core.domain.models import SubmissionCreate
from intake_core.ports.intake import ClientIdTaken, IdempotencyConflict
from intake_core.ports.store import StoreUnavailable
from intake_core.telemetry import current_traceparent
from intake_core.web import FieldProblem, ValidationProblem, problem_answer

COMMON_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem_answer("Malformed JSON, a body that is not an object, or a bad Idempotency-Key"),
    413: problem_answer("The body is larger than the configured limit"),
    415: problem_answer("The body is not application/json"),
    422: problem_answer(
        "Fields are missing or invalid, each named by where it was sent and its JSON path",
        ValidationProblem,
    ),
    429: problem_answer("Too many requests from this address; see Retry-After"),
    503: problem_answer("The store is unavailable; nothing was saved, retry after Retry-After"),
}

router = APIRouter(prefix="/v1", tags=["submissions"])


async def create_submission(
    content: Annotated[SubmissionCreate, Body()],
    request: Request,
    response: Response,
    intake: SubmissionIntake,
    key: IdempotencyKey,
) -> SubmissionAccepted:
    command = SubmitOnboarding(
        content=content,
        idempotency_key=key,
        source_ip=intake.source_ip,
        user_agent=request.headers.get("user-agent"),
        # The request's span (a child of the caller's traceparent, if any) travels with the
        # event, so the relay and the notifier join this trace.
        traceparent=current_traceparent(),
    )
    runtime, adapters = intake.runtime, intake.adapters
    outcomes = runtime.metrics.submissions
    try:
        result = await submit(
            command, adapters.store, adapters.publisher, adapters.clock, runtime.policy
        )
    except UnknownPrivacyNotice:
        outcomes.labels("invalid").inc()
        raise InvalidFields(
            [
                FieldProblem(
                    path="consent.privacyNoticeVersion",
                    in_="body",
                    message="is not a version we know",
                )
            ]
        ) from None
    except IdempotencyConflict:
        outcomes.labels("conflict").inc()
        raise
    except (StoreUnavailable, ClientIdTaken):
        outcomes.labels("unavailable").inc()
        raise
    outcomes.labels("created" if result.created else "replayed").inc()
    response.status_code = 201 if result.created else 200
    return SubmissionAccepted(client_id=result.client_id, submitted_at=result.submitted_at)


router.add_api_route(
    "/submissions",
    create_submission,
    methods=["POST"],
    # Fills the parameters above without FastAPI's per-request dependency solving.
    route_class_override=SubmissionRoute,
    status_code=201,
    summary="Submit an onboarding request",
    responses={
        200: {"model": SubmissionAccepted, "description": "A repeat of an earlier request"},
        409: problem_answer("The Idempotency-Key was used with a different body"),
        **COMMON_PROBLEMS,
    },
)


@router.post(
    "/status-lookup",
    summary="Look up the status of a request by Client ID and contact email",
    responses={
        404: problem_answer("No request matches this Client ID and email"),
        **COMMON_PROBLEMS,
    },
    dependencies=[Depends(lookup_rate_limit)],
)
async def status_lookup(query: StatusLookupRequest, store: StoreDep) -> StatusLookupResult:
    status = await look_up_status(query.client_id, query.email, store)
    if status is None:
        raise ApiProblem(404, "No request matches this Client ID and email.")
    return StatusLookupResult(status=status)
