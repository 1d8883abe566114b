"""Every problem answer a route can give, as routes and routers declare them in the OpenAPI
document (``intake_core.web.install_openapi`` files them under ``application/problem+json``).
"""

from __future__ import annotations

from typing import Any

from intake_core.web import Problem, ValidationProblem, problem_answer


class RoleProblem(Problem):
    """403: ``role`` names the app role the route needs, for a client to say so."""

    role: str


STAFF_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: problem_answer("No bearer token, or one that does not verify; see WWW-Authenticate"),
    403: problem_answer("The token lacks the role this route needs, named in `role`", RoleProblem),
    422: problem_answer(
        "A parameter is missing or invalid, each named with where it was sent", ValidationProblem
    ),
    503: problem_answer("The store is unavailable; retry after Retry-After"),
}
RECORD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: problem_answer("No submission has this Client ID"),
}
BODY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem_answer("The body is not valid JSON, or not UTF-8"),
    413: problem_answer("The body is larger than the configured limit"),
    415: problem_answer("The body is not application/json"),
}
CHANGE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **RECORD_PROBLEMS,
    **BODY_PROBLEMS,
    409: problem_answer("The record's status does not allow this change"),
    412: problem_answer("If-Match names a version the record no longer has"),
}
ERASE_PROBLEMS: dict[int | str, dict[str, Any]] = {**RECORD_PROBLEMS, **BODY_PROBLEMS}
READINESS_PROBLEMS: dict[int | str, dict[str, Any]] = {
    503: problem_answer("A dependency is not reachable; retry after Retry-After"),
}
