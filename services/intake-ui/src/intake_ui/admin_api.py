"""The dashboard's view of admin-api, called with the signed-in staff member's access token.

Every answer other than success is raised as an :class:`AdminApiError` subclass named after
what it means to the staff member; the dashboard turns each into a clear message, never a 500.
Reads are retried (bounded, with jitter) on connection errors and any 5xx; changes and
downloads are sent once (a lost answer to a PATCH retried with the same If-Match would read as
a conflict). Every 5xx counts as unavailable. A circuit breaker makes a dead admin-api fail
fast (:mod:`intake_ui.api_client`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from intake_core.auth import ROLES
from intake_core.breakers import Breaker, BreakerOpen
from intake_core.domain.models import (
    ErasedSubmission,
    Industry,
    ServiceType,
    Status,
    Submission,
)
from intake_core.domain.stored import STORED
from intake_ui.api_client import ApiClient, RetryableAnswer, json_object

logger = logging.getLogger(__name__)


class AdminApiError(Exception):
    status = 500

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class SignInExpired(AdminApiError):
    status = 401


class MissingRole(AdminApiError):
    """403. ``role`` names the app role that was needed, when admin-api's answer says which."""

    status = 403

    def __init__(self, detail: str = "", role: str | None = None) -> None:
        super().__init__(detail)
        self.role = role if role in ROLES else None  # only a known role is shown


class RecordNotFound(AdminApiError):
    status = 404


class NotAllowedNow(AdminApiError):
    status = 409


class ChangedMeanwhile(AdminApiError):
    status = 412


class InvalidRequest(AdminApiError):
    status = 422

    def __init__(self, detail: str = "", fields: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.fields = fields


class AdminApiUnavailable(AdminApiError):
    status = 503


_BY_STATUS: dict[int, type[AdminApiError]] = {
    401: SignInExpired,
    403: MissingRole,
    404: RecordNotFound,
    409: NotAllowedNow,
    412: ChangedMeanwhile,
    422: InvalidRequest,
}
T = TypeVar("T")


class _View(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class SubmissionRow(_View):
    client_id: str
    company_name: str
    industry: Industry
    service_type: ServiceType
    status: Status
    submitted_at: datetime
    contact_name: str
    contact_email: str


class SubmissionList(_View):
    items: list[SubmissionRow]
    continuation_token: str | None = None


class AuditRow(_View):
    at: datetime
    action: str
    actor: str
    details: dict[str, str] = {}


class DayFigures(_View):
    day: date = Field(alias="date")
    counts: dict[Status, int]
    total: int


class ServiceTypeFigures(_View):
    service_type: ServiceType
    count: int


class Figures(_View):
    """``GET /v1/figures``: every day of the window (oldest first) and every service type."""

    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    days: list[DayFigures]
    by_service_type: list[ServiceTypeFigures]
    total: int


Record = Submission | ErasedSubmission
_AUDIT = TypeAdapter(list[AuditRow])


@dataclass(frozen=True)
class Download:
    """A file admin-api is still sending: pass it on chunk by chunk, then close it."""

    response: httpx.Response

    @property
    def headers(self) -> dict[str, str]:
        kept = ("content-type", "content-disposition")
        return {name: self.response.headers[name] for name in kept if name in self.response.headers}

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_raw():
                yield chunk
        finally:
            await self.response.aclose()


class AdminApiClient(ApiClient):
    """admin-api over HTTP: ``app.state.admin_api``. Every 5xx is worth another try."""

    state_key = "admin_api"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        attempts: int = 2,
        max_wait_seconds: float = 1.0,
        breaker: Breaker | None = None,
    ) -> None:
        super().__init__(
            http,
            breaker or Breaker("admin-api", failures=5, reset_seconds=30),
            attempts,
            backoff_seconds=0.2,
            max_wait_seconds=max_wait_seconds,
        )

    async def search(self, token: str, filters: Mapping[str, str]) -> SubmissionList:
        response = await self._send(token, "GET", "/v1/submissions", params=filters)
        return _parse(SubmissionList.model_validate, response)

    async def figures(self, token: str, days: int) -> Figures:
        response = await self._send(token, "GET", "/v1/figures", params={"days": str(days)})
        return _parse(Figures.model_validate, response)

    async def record(self, token: str, client_id: str) -> tuple[Record, str]:
        response = await self._send(token, "GET", f"/v1/submissions/{client_id}")
        return _parse(_record, response), response.headers.get("etag", "")

    async def change_status(self, token: str, client_id: str, status: str, etag: str) -> str:
        """The record's new ETag: admin-api answers a change with the new status only."""
        headers = {"If-Match": etag} if etag else {}
        response = await self._send(
            token,
            "PATCH",
            f"/v1/submissions/{client_id}",
            json={"status": status},
            headers=headers,
            retry=False,
        )
        return response.headers.get("etag", "")

    async def audit_trail(self, token: str, client_id: str) -> list[AuditRow]:
        response = await self._send(token, "GET", f"/v1/submissions/{client_id}/audit")
        return _parse(_AUDIT.validate_python, response)

    async def erase(self, token: str, client_id: str, reason: str, note: str | None) -> None:
        """Why goes with it: admin-api keeps the reason and note in the erasure's audit entry."""
        body = {"reason": reason, "note": note} if note else {"reason": reason}
        await self._send(
            token, "POST", f"/v1/submissions/{client_id}/erase", json=body, retry=False
        )

    async def export_csv(self, token: str, filters: Mapping[str, str]) -> Download:
        return await self._download(token, "/v1/submissions.csv", filters)

    async def subject_export(self, token: str, client_id: str) -> Download:
        return await self._download(token, f"/v1/submissions/{client_id}/subject-export", {})

    async def _download(self, token: str, path: str, params: Mapping[str, str]) -> Download:
        """Sent once and streamed: the body is passed on as admin-api sends it."""
        try:
            response = await self.send_with_retries(
                "GET", path, params=params, headers=_bearer(token), retry=False, stream=True
            )
        except (BreakerOpen, httpx.HTTPError, RetryableAnswer) as error:
            logger.warning("admin-api unavailable for a download: %s", type(error).__name__)
            raise AdminApiUnavailable from None
        if response.status_code != 200:
            await response.aread()
            await response.aclose()
            raise _error(response)
        return Download(response)

    async def _send(
        self, token: str, method: str, path: str, *, retry: bool = True, **kwargs: Any
    ) -> httpx.Response:
        headers = {**_bearer(token), **kwargs.pop("headers", {})}
        try:
            response = await self.send_with_retries(
                method, path, headers=headers, retry=retry, **kwargs
            )
        except (BreakerOpen, httpx.HTTPError, RetryableAnswer) as error:
            logger.warning(
                "admin-api unavailable for %s %s: %s", method, path, type(error).__name__
            )
            raise AdminApiUnavailable from None
        if response.status_code >= 300:
            raise _error(response)
        return response


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _record(body: Any) -> Record:
    """A record as admin-api stored it: read with the shape checks only, as admin-api reads it,
    so one saved before an input rule was tightened (postal code formats) still opens."""
    if isinstance(body, dict) and "company" not in body:
        return ErasedSubmission.model_validate(body, context=STORED)
    return Submission.model_validate(body, context=STORED)


def _parse(read: Callable[[Any], T], response: httpx.Response) -> T:
    try:
        result = read(response.json())
    except ValidationError as error:
        # Where and what kind, never the values: the text of a ValidationError quotes the input.
        problems = sorted({f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in error.errors()})
        logger.error("admin-api sent an answer the dashboard cannot read: %s", "; ".join(problems))
        raise AdminApiUnavailable("unreadable answer") from None
    except ValueError:
        logger.error("admin-api sent an answer the dashboard cannot read: not JSON")
        raise AdminApiUnavailable("unreadable answer") from None
    return result


def _error(response: httpx.Response) -> AdminApiError:
    body = json_object(response)
    detail = body.get("detail")
    detail = detail if isinstance(detail, str) else ""
    kind = _BY_STATUS.get(response.status_code)
    if kind is InvalidRequest:
        errors = body.get("errors")
        fields = tuple(
            str(error.get("path"))
            for error in (errors if isinstance(errors, list) else [])
            if isinstance(error, dict) and error.get("path")
        )
        return InvalidRequest(detail, fields)
    if kind is MissingRole:
        role = body.get("role")
        return MissingRole(detail, role if isinstance(role, str) else None)
    if kind is None:
        logger.warning("admin-api answered %s", response.status_code)
        return AdminApiUnavailable(detail)
    return kind(detail)
