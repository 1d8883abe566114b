"""The route of ``POST /v1/submissions``: its endpoint's parameters filled directly.

FastAPI fills an endpoint's parameters by walking its dependency tree on every request, and
parses a JSON body twice: into Python objects, then into the model. For the one endpoint that
takes the public's load, that generic work was about an eighth of intake-api's CPU per
submission (docs/performance.md, session 3). This route class fills
``create_submission``'s five parameters itself, in the order FastAPI would: the intake
dependency (rate limit), the Idempotency-Key, then the body, validated from its bytes in one
step. Each failure raises what FastAPI would raise, so the app's problem handlers answer
exactly as before.

Everything else stays FastAPI's: routing, the exception handlers, tracing and the OpenAPI
document, which is still generated from the endpoint's signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from intake_api.dependencies import idempotency_key, submission_intake
from intake_api.json_guard import Refused, parse_json_object
from intake_core.domain.models import SubmissionCreate

PARAMETERS = ("content", "request", "response", "intake", "key")


def _validated_as_fastapi_would(body: bytes) -> SubmissionCreate:
    """The slow path, for bodies the one-step validation refused: parsed strictly (400 when it
    is not a JSON object, as JsonBodyGuard answers for other routes), then validated as FastAPI
    validates, so the 422 is the same. (Not only the same words: a lone surrogate escape makes
    the one-step parser refuse the whole body, where this names the field that holds it.)

    A body the one-step validation accepts is strict JSON too: the model forbids unknown
    fields and has no float field, so ``NaN``, ``Infinity`` and huge numbers cannot pass it."""
    try:
        return SubmissionCreate.model_validate(parse_json_object(body))
    except ValidationError as error:
        # FastAPI's location for body fields, so the problem names the same JSON paths.
        errors = [
            {**detail, "loc": ("body", *detail["loc"])}
            for detail in error.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


class SubmissionRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        names = tuple(inspect.signature(endpoint).parameters)
        if set(names) != set(PARAMETERS):
            # Fail at import, not on the first request, when the endpoint's signature changes.
            raise TypeError(f"{endpoint.__name__} must take exactly {PARAMETERS}, not {names}")
        super().__init__(path, endpoint, **options)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            intake = await submission_intake(request)
            key = await idempotency_key(request.headers.get("idempotency-key"))
            body = await request.body()
            try:
                content = SubmissionCreate.model_validate_json(body)
            except ValidationError:
                try:
                    content = _validated_as_fastapi_would(body)
                except (Refused, RequestValidationError) as refused:
                    # Counted here: the problem handlers answer for every route alike.
                    intake.runtime.metrics.submissions.labels("invalid").inc()
                    if isinstance(refused, Refused):
                        return refused.response
                    raise
            # The endpoint sets its status code here, as on FastAPI's own sub-response.
            response = Response(status_code=201)
            accepted: BaseModel = await endpoint(
                content=content, request=request, response=response, intake=intake, key=key
            )
            return Response(
                accepted.model_dump_json(by_alias=True),
                status_code=response.status_code,
                media_type="application/json",
            )

        return handle
