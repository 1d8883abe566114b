"""RFC 9457 problem documents, the one shape of every error answer of the APIs.

The ``type`` is always ``about:blank``, so the ``title`` is the status code's phrase ("Not
Found"), as RFC 9457 (4.2.1) asks: a client tells problems apart by ``status`` and reads
``detail``. A 422 lists each bad field as a :class:`FieldProblem`: where it was sent (``in``)
and its JSON path there (``path``), with a message phrased for people that never echoes the
input or names a Python class (docs/adr/0006-one-http-toolkit.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from intake_core.web.middleware import BodyRefusal

PROBLEM_JSON = "application/problem+json"

# Whole seconds a 503 asks a client to wait when nothing (an open breaker) says better.
RETRY_AFTER_SECONDS = 5

Location = Literal["body", "query", "path", "header", "cookie"]
_LOCATIONS: frozenset[str] = frozenset(("body", "query", "path", "header", "cookie"))

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


class Problem(BaseModel):
    """An RFC 9457 problem document: every error answer (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class FieldProblem(BaseModel):
    """One bad field: where it was sent (``in``) and its JSON path there
    (``company.address.postalCode``) or its parameter's name (``limit``). Both APIs always
    say where; only a model's own error (not a request's) has no ``in``."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    path: str
    # Never null on the wire (left out instead), so the published schema does not offer null.
    in_: Location | SkipJsonSchema[None] = Field(default=None, alias="in")
    message: str

    def wire(self) -> dict[str, str]:
        return self.model_dump(by_alias=True, exclude_none=True)


class ValidationProblem(Problem):
    """422: each bad field, by where it was sent and its path there."""

    errors: list[FieldProblem]


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem document titled with the status code's phrase; ``extensions`` are added as
    members (``errors``, ``role``, ``failed``)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


def validation_problem(errors: Sequence[FieldProblem], detail: str) -> JSONResponse:
    return problem_response(422, detail, errors=[error.wire() for error in errors])


def json_path(loc: Iterable[int | str]) -> str:
    """``("company", "contact", "email")`` → ``company.contact.email``; ``[0]`` for indices."""
    path = ""
    for part in loc:
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


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    """Pydantic's errors as the fields a client sent. A request's errors start their ``loc``
    with where the field was sent (FastAPI's ``body``, ``query``…), which becomes ``in``; a
    model's own errors have none. A location with no field in it (a missing body) is named
    by the location itself."""
    problems = []
    for error in errors:
        loc = list(error.get("loc", ()))
        where = loc[0] if loc and loc[0] in _LOCATIONS else None
        path = json_path(loc[1:] if where else loc)
        problems.append(
            FieldProblem(path=path or where or "", in_=where, message=friendly_message(error))
        )
    return problems


def problem_body_refusal(max_bytes: int) -> BodyRefusal:
    """What ``BodyLimit`` answers in an API: 413 over the limit, 400 for a ``Content-Length``
    that is not a number."""

    async def refuse(_: Request, status: int) -> Response:
        if status == 413:
            return problem_response(413, f"The body must not exceed {max_bytes} bytes.")
        return problem_response(400, "The Content-Length header is not valid.")

    return refuse
