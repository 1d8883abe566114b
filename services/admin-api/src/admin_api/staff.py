"""Who is calling: a bearer JWT verified into :class:`Staff`, and the role each route needs.
A role's dependency answers the :class:`StaffRequest` the audit trail names (the staff member
and the request id), so routes hand it on as they got it.

The token is verified by :class:`StaffAuthentication` before the route reads anything else
("401 without a valid token": no body is judged for an unknown caller); the role is checked
by each route's dependency (403).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from admin_api.audit_log import StaffRequest
from admin_api.deps import RequestId
from admin_api.problems import MissingRole, NotAuthenticated, not_authenticated
from intake_core.auth import InvalidToken, Role, Staff, TokenVerifier

MAX_TOKEN_LENGTH = 16 * 1024
STAFF_PATHS = "/v1/"


def _bearer_token(headers: Headers) -> str:
    header = headers.get("authorization")
    if not header:
        raise NotAuthenticated("Sign in: send 'Authorization: Bearer <token>'.", token_given=False)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Use the Bearer authentication scheme.", token_given=False)
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotAuthenticated("The token is not valid.", token_given=True)
    return token


async def authenticate(headers: Headers, verifier: TokenVerifier) -> Staff:
    token = _bearer_token(headers)
    try:
        # A JWKS verifier may fetch keys over the network: keep it off the event loop.
        staff: Staff = await run_in_threadpool(verifier.verify, token)
    except InvalidToken:
        raise NotAuthenticated("The token is not valid.", token_given=True) from None
    return staff


class StaffAuthentication:
    """Verifies the bearer token of every request a staff route will answer, and keeps the
    :class:`Staff` in the scope's state. A path or method no route has is left to the router,
    so it stays 404 or 405 for anyone."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self._app = app
        self._routes = routes

    def _guarded(self, scope: Scope) -> bool:
        return scope["path"].startswith(STAFF_PATHS) and any(
            route.matches(scope)[0] is Match.FULL for route in self._routes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guarded(scope):
            await self._app(scope, receive, send)
            return
        verifier: TokenVerifier = scope["state"]["runtime"].deps.verifier
        try:
            staff = await authenticate(Headers(scope=scope), verifier)
        except NotAuthenticated as error:
            await not_authenticated(error)(scope, receive, send)
            return
        scope["state"]["staff"] = staff
        scope["state"]["actor"] = staff.subject
        await self._app(scope, receive, send)


async def signed_in_staff(request: Request) -> Staff:
    staff: Staff | None = request.scope["state"].get("staff")
    if staff is None:  # a staff route outside STAFF_PATHS: refuse rather than trust
        raise NotAuthenticated("Sign in: send 'Authorization: Bearer <token>'.", token_given=False)
    return staff


def require(role: Role) -> Callable[..., Awaitable[StaffRequest]]:
    async def staff_with_role(
        staff: Annotated[Staff, Depends(signed_in_staff)], request_id: RequestId
    ) -> StaffRequest:
        if not staff.has(role):
            raise MissingRole(role)
        return StaffRequest(staff.subject, request_id)

    return staff_with_role


# Named, so a route can also list its role in ``dependencies`` to order a check after it:
# FastAPI runs a dependency once per request, the ``staff`` parameter gets the same answer.
may_read = require(Role.READ)
may_manage = require(Role.MANAGE)
may_export = require(Role.EXPORT)
may_erase = require(Role.ERASE)
may_read_audit = require(Role.AUDIT_READ)

Reader = Annotated[StaffRequest, Depends(may_read)]
StatusChanger = Annotated[StaffRequest, Depends(may_manage)]
Exporter = Annotated[StaffRequest, Depends(may_export)]
Eraser = Annotated[StaffRequest, Depends(may_erase)]
AuditReader = Annotated[StaffRequest, Depends(may_read_audit)]
