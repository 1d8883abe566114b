"""Every error answer is RFC 9457 ``application/problem+json``, and none carries internals.

Pydantic reports a bad field by its ``loc``; clients want the JSON path they sent
(``company.contact.email``), so the location is translated here, and the messages are phrased
for people, never echoing the input or naming Python classes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from intake_core.ports import ClientIdTaken, IdempotencyConflict, StoreUnavailable
from intake_core.web import BodyRefusal, problem

logger = logging.getLogger(__name__)

STORE_RETRY_AFTER_SECONDS = 5

# Pydantic adds schema names to ``loc`` for unions and wrapped validators
# ("function-after[...]", "constrained-str", "lax-or-strict[...]"); they are not JSON keys.
_SCHEMA_TAG = re.compile(
    r"^(function-[a-z]+|lax-or-strict|json-or-python|nullable|chain|default|tagged-union)\[.*\]$"
    r"|^constrained-[a-z]+$"
)

_FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be an array",
}


class FieldError(BaseModel):
    path: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class ValidationProblem(Problem):
    errors: list[FieldError]


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

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = list(errors)


def json_path(loc: Iterable[int | str]) -> str:
    """``("body", "company", "contact", "email")`` → ``company.contact.email``; ``[0]`` indices."""
    path = ""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _SCHEMA_TAG.match(part):
            continue
        else:
            path += f".{part}" if path else part
    return path


def friendly_message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in _FRIENDLY:
        return _FRIENDLY[kind]
    message = str(error.get("msg", "is not valid"))
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "literal_error" and message == "Input should be True":
        return "must be true"
    return message


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    return [
        FieldError(path=json_path(error.get("loc", ())), message=friendly_message(error))
        for error in errors
    ]


def problem_response(
    status: int, detail: str | None = None, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    return problem(status, HTTPStatus(status).phrase, detail, headers=dict(headers or {}), **extra)


def body_refusal(max_bytes: int) -> BodyRefusal:
    """What ``BodyLimit`` answers: 413 over the limit, 400 for a ``Content-Length`` that is not a
    number."""

    async def refuse(_: Request, status: int) -> Response:
        if status == 413:
            return problem_response(413, f"The body must not exceed {max_bytes} bytes.")
        return problem_response(400, "The Content-Length header is not valid.")

    return refuse


def validation_problem(errors: Sequence[FieldError]) -> Response:
    return problem_response(
        422,
        "Some fields are missing or not valid.",
        errors=[error.model_dump() for error in errors],
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_validation(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        return validation_problem(field_errors(error.errors()))

    async def on_invalid_fields(_: Request, error: Exception) -> Response:
        assert isinstance(error, InvalidFields)
        return validation_problem(error.errors)

    async def on_api_problem(_: Request, error: Exception) -> Response:
        assert isinstance(error, ApiProblem)
        return problem_response(error.status, error.detail, error.headers)

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
        breaker = request.app.state.runtime.store_breaker
        return problem_response(
            503,
            "We cannot save or read submissions right now. Please try again shortly.",
            {"retry-after": str(breaker.retry_after(STORE_RETRY_AFTER_SECONDS))},
        )

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(InvalidFields, on_invalid_fields)
    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(IdempotencyConflict, on_conflict)
    app.add_exception_handler(StoreUnavailable, on_store_unavailable)
    # Five Client ID collisions in a row means something is wrong with the store, not the client.
    app.add_exception_handler(ClientIdTaken, on_store_unavailable)
