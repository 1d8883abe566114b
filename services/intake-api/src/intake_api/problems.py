"""Every error answer is RFC 9457 ``application/problem+json``, and none carries internals.

The documents, their titles and the 422's field problems are ``intake_core.web``'s, shared with
admin-api; this module decides which exception is which answer, in this service's words.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from intake_core.breakers import Breaker
from intake_core.ports.intake import ClientIdTaken, IdempotencyConflict
from intake_core.ports.store import StoreUnavailable
from intake_core.web import (
    RETRY_AFTER_SECONDS,
    FieldProblem,
    field_problems,
    problem_response,
    validation_problem,
)

logger = logging.getLogger(__name__)

INVALID_FIELDS = "Some fields are missing or not valid."


class ApiProblem(Exception):
    """Raised by routes and guards to answer with a problem document."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


class InvalidFields(Exception):
    """Fields that passed the schema but break a rule of this service (answered with 422)."""

    def __init__(self, errors: Sequence[FieldProblem]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = list(errors)


def internal_error() -> Response:
    """What any exception nothing else handled answers (through ``LastResort``): no detail."""
    return problem_response(500)


def install_problem_handlers(app: FastAPI, store_breaker: Breaker) -> None:
    async def on_validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return validation_problem(field_problems(error.errors()), INVALID_FIELDS)

    async def on_invalid_fields(_: Request, error: Exception) -> Response:
        assert isinstance(error, InvalidFields)
        return validation_problem(error.errors, INVALID_FIELDS)

    async def on_api_problem(_: Request, error: Exception) -> Response:
        assert isinstance(error, ApiProblem)
        return problem_response(error.status, error.detail, headers=error.headers)

    async def on_http_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        # Starlette's own details (e.g. "Not Found") are safe, but we phrase our own anyway.
        return problem_response(error.status_code, headers=error.headers)

    async def on_conflict(_: Request, __: Exception) -> Response:
        return problem_response(
            409, "This Idempotency-Key was already used for a different submission."
        )

    async def on_store_unavailable(request: Request, error: Exception) -> Response:
        logger.warning("store unavailable on %s: %s", request.url.path, type(error).__name__)
        # While the store's breaker is open, the time until it lets a trial through.
        return problem_response(
            503,
            "We cannot save or read submissions right now. Please try again shortly.",
            headers={"retry-after": str(store_breaker.retry_after(RETRY_AFTER_SECONDS))},
        )

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(InvalidFields, on_invalid_fields)
    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(IdempotencyConflict, on_conflict)
    app.add_exception_handler(StoreUnavailable, on_store_unavailable)
    # Five Client ID collisions in a row means something is wrong with the store, not the client.
    app.add_exception_handler(ClientIdTaken, on_store_unavailable)
