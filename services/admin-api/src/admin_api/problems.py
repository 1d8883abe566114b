"""Every error as ``application/problem+json`` (RFC 9457), and never a leak of internals.

Modules raise domain-worded exceptions; this module alone decides which answer each is, in this
service's words. The documents, their titles and the 422's field problems are
``intake_core.web``'s, shared with intake-api.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from intake_core.breakers import Breaker
from intake_core.ports.cache import CacheUnavailable
from intake_core.ports.staff import SubmissionNotFound
from intake_core.ports.store import StoreUnavailable
from intake_core.web import (
    RETRY_AFTER_SECONDS,
    FieldProblem,
    Location,
    field_problems,
    problem_response,
    validation_problem,
)

logger = logging.getLogger(__name__)

INVALID_FIELDS = "Some fields are not valid."
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class NotAuthenticated(Exception):
    """No bearer token, or one that does not verify."""

    def __init__(self, detail: str, *, token_given: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.token_given = token_given


class MissingRole(Exception):
    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


class InvalidInput(Exception):
    """Input that passed the schema but not a rule we check ourselves."""

    def __init__(self, field: str, message: str, *, location: Location = "query") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.location = location


class NotJson(Exception):
    """A request body sent as something other than JSON (415)."""


class Conflict(Exception):
    """The request is well formed but the record's state does not allow it (409)."""


class PreconditionFailed(Exception):
    """``If-Match`` names a version the record no longer has (412)."""


def internal_error() -> Response:
    """What any exception nothing else handled answers (through ``LastResort``)."""
    return problem_response(500, "Something went wrong on our side.")


def not_authenticated(error: NotAuthenticated) -> Response:
    challenge = 'Bearer error="invalid_token"' if error.token_given else "Bearer"
    return problem_response(401, error.detail, headers={"WWW-Authenticate": challenge})


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at this path: the router's 405 names only the first
    route's. Asked of the routes themselves, as the router does, so included routers count."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def install(app: FastAPI, store_breaker: Breaker) -> None:
    """``store_breaker``: the one in front of the store, whose cool-down a 503 asks to wait."""

    async def validation_failed(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if any(detail.get("type") == "json_invalid" for detail in error.errors()):
            # Unreadable, not invalid: 400, as intake-api answers (FastAPI files it as a 422).
            return problem_response(400, "The body is not valid JSON.")
        return validation_problem(field_problems(error.errors()), INVALID_FIELDS)

    async def invalid_input(_: Request, error: Exception) -> Response:
        assert isinstance(error, InvalidInput)
        field = FieldProblem(path=error.field, in_=error.location, message=error.message)
        return validation_problem([field], error.message)

    async def unauthenticated(_: Request, error: Exception) -> Response:
        assert isinstance(error, NotAuthenticated)
        return not_authenticated(error)

    async def missing_role(_: Request, error: Exception) -> Response:
        assert isinstance(error, MissingRole)
        return problem_response(403, f"This needs the {error.role} role.", role=error.role)

    async def not_found(_: Request, __: Exception) -> Response:
        return problem_response(404, "No submission has this Client ID.")

    async def not_json(_: Request, __: Exception) -> Response:
        return problem_response(415, "Send the body as application/json.")

    async def conflict(_: Request, error: Exception) -> Response:
        return problem_response(409, str(error))

    async def precondition_failed(_: Request, error: Exception) -> Response:
        return problem_response(412, str(error))

    async def store_unavailable(_: Request, error: Exception) -> Response:
        logger.warning("store unavailable: %s", error)
        # While the store's breaker is open, the time until it lets a trial through.
        return problem_response(
            503,
            "The data store is not reachable; try again shortly.",
            headers={"Retry-After": str(store_breaker.retry_after(RETRY_AFTER_SECONDS))},
        )

    async def cache_unavailable(_: Request, error: Exception) -> Response:
        # Only a change that must reach the cache gets here (an erasure): reads skip it.
        logger.error("read cache unavailable during a change: %s", error)
        return problem_response(
            503,
            "The change is saved, but a cached copy could not be removed yet; send it again.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        status = error.status_code
        headers = dict(error.headers) if error.headers else {}
        if status == 405:
            headers["Allow"] = _allowed_methods(request)
        # Starlette's and FastAPI's own messages ("There was an error parsing the body").
        return problem_response(status, str(error.detail), headers=headers)

    handlers = {
        RequestValidationError: validation_failed,
        InvalidInput: invalid_input,
        NotAuthenticated: unauthenticated,
        MissingRole: missing_role,
        SubmissionNotFound: not_found,
        NotJson: not_json,
        Conflict: conflict,
        PreconditionFailed: precondition_failed,
        StoreUnavailable: store_unavailable,
        CacheUnavailable: cache_unavailable,
        HTTPException: http_error,
    }
    for exception, handler in handlers.items():
        app.add_exception_handler(exception, handler)
