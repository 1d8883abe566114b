"""Who is calling: a bearer JWT verified into :class:`Staff`, and the role each route needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from admin_api.problems import MissingRole, NotAuthenticated
from intake_core.auth import InvalidToken, Staff

MAX_TOKEN_LENGTH = 16 * 1024


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise NotAuthenticated("Sign in: send 'Authorization: Bearer <token>'.", token_given=False)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Use the Bearer authentication scheme.", token_given=False)
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotAuthenticated("The token is not valid.", token_given=True)
    return token


async def current_staff(request: Request) -> Staff:
    token = _bearer_token(request)
    verifier = request.state.runtime.deps.verifier
    try:
        # A JWKS verifier may fetch keys over the network: keep it off the event loop.
        staff: Staff = await run_in_threadpool(verifier.verify, token)
    except InvalidToken:
        raise NotAuthenticated("The token is not valid.", token_given=True) from None
    request.scope["state"]["actor"] = staff.subject
    return staff


def require(role: str) -> Callable[[Staff], Awaitable[Staff]]:
    async def staff_with_role(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not staff.has(role):
            raise MissingRole(role)
        return staff

    return staff_with_role


Reader = Annotated[Staff, Depends(require("Submissions.Read"))]
Manager = Annotated[Staff, Depends(require("Submissions.Manage"))]
Exporter = Annotated[Staff, Depends(require("Submissions.Export"))]
Eraser = Annotated[Staff, Depends(require("Submissions.Erase"))]
AuditReader = Annotated[Staff, Depends(require("Audit.Read"))]
