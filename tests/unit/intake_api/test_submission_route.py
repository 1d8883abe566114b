"""The submissions route fills its endpoint's parameters itself: the contract must not notice.

Its answers are covered end to end by the intake-api integration, bad-input and fuzz suites,
which all go through it; these tests pin what they cannot see.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter

from intake_api import routes
from intake_api.submission_route import SubmissionRoute


def _submissions_operation(route_class: type[APIRoute]) -> dict[str, Any]:
    router = APIRouter(prefix="/v1")
    [declared] = [route for route in routes.router.routes if route.name == "create_submission"]
    assert isinstance(declared, APIRoute)
    router.add_api_route(
        "/submissions",
        declared.endpoint,
        methods=["POST"],
        route_class_override=route_class,
        status_code=declared.status_code,
        summary=declared.summary,
        responses=declared.responses,
    )
    app = FastAPI()
    app.include_router(router)
    return dict(app.openapi()["paths"]["/v1/submissions"]["post"])


def test_the_openapi_operation_is_what_fastapis_own_route_would_document() -> None:
    assert _submissions_operation(SubmissionRoute) == _submissions_operation(APIRoute)


def test_the_live_route_is_a_submission_route() -> None:
    [declared] = [route for route in routes.router.routes if route.name == "create_submission"]
    assert type(declared) is SubmissionRoute


def test_an_endpoint_with_other_parameters_is_refused_at_import() -> None:
    async def create_submission(content: Any, request: Any, extra: Any) -> None: ...

    with pytest.raises(TypeError, match="must take exactly"):
        SubmissionRoute("/v1/submissions", create_submission, methods=["POST"])
