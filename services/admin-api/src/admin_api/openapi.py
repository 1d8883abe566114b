"""The published OpenAPI document: every problem answer a route can give, under its real type.

Routes and routers declare their problem answers with these sets; FastAPI files them under
``application/json``, and :func:`install_openapi` moves them to ``application/problem+json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from admin_api.schemas import Problem, RoleProblem, ValidationProblem
from intake_core.web import problem_media_types


def _problem(description: str, model: type[Problem] = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


STAFF_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("No bearer token, or one that does not verify; see WWW-Authenticate"),
    403: _problem("The token lacks the role this route needs, named in `role`", RoleProblem),
    422: _problem(
        "A parameter is missing or invalid, each named with where it was sent", ValidationProblem
    ),
    503: _problem("The store is unavailable; retry after Retry-After"),
}
RECORD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: _problem("No submission has this Client ID"),
}
BODY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("The body is not valid JSON, or not UTF-8"),
    413: _problem("The body is larger than the configured limit"),
    415: _problem("The body is not application/json"),
}
CHANGE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **RECORD_PROBLEMS,
    **BODY_PROBLEMS,
    409: _problem("The record's status does not allow this change"),
    412: _problem("If-Match names a version the record no longer has"),
}
ERASE_PROBLEMS: dict[int | str, dict[str, Any]] = {**RECORD_PROBLEMS, **BODY_PROBLEMS}
READINESS_PROBLEMS: dict[int | str, dict[str, Any]] = {
    503: _problem("A dependency is not reachable; retry after Retry-After"),
}


def install_openapi(app: FastAPI) -> None:
    build_document = app.openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_media_types(build_document())
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
