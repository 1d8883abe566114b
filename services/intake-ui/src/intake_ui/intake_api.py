"""The UI's view of intake-api: submit an onboarding request, look up a status.

Each call answers with an outcome the pages can show; transport failures never escape as
exceptions. Submissions are retried (bounded, with jitter) on connection errors, timeouts and
503, always with the same ``Idempotency-Key``, so a retry can never create a second record.
A circuit breaker makes a dead intake-api fail fast instead of making every visitor wait.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from intake_core.breakers import Breaker, BreakerOpen
from intake_ui.api_client import RETRYABLE_ERRORS, ApiClient, json_object

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class FieldProblem:
    """One bad field as intake-api names it, by dotted path: ``company.contact.email``."""

    path: str
    message: str


@dataclass(frozen=True)
class Submitted:
    client_id: str


@dataclass(frozen=True)
class Invalid:
    problems: tuple[FieldProblem, ...]


@dataclass(frozen=True)
class Throttled:
    retry_after_seconds: int


@dataclass(frozen=True)
class KeyReused:
    """The Idempotency-Key was already used for different content (409)."""


@dataclass(frozen=True)
class Unavailable:
    """intake-api is down, slow or overloaded: nothing is known to have been stored."""


@dataclass(frozen=True)
class Refused:
    """Any other answer: the request cannot succeed as sent (413, 400, ...)."""

    status: int


@dataclass(frozen=True)
class StatusFound:
    status: str


@dataclass(frozen=True)
class StatusNotFound:
    pass


SubmitOutcome = Submitted | Invalid | Throttled | KeyReused | Unavailable | Refused
LookupOutcome = StatusFound | StatusNotFound | Invalid | Throttled | Unavailable | Refused


_RETRYABLE_STATUSES = frozenset({502, 503, 504})


class IntakeApiClient(ApiClient):
    """intake-api over HTTP: ``app.state.intake_api``."""

    state_key = "intake_api"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        attempts: int = 3,
        max_wait_seconds: float = 2.0,
        give_up_after_seconds: float = 15.0,
        breaker: Breaker | None = None,
    ) -> None:
        super().__init__(
            http,
            breaker or Breaker("intake-api", failures=5, reset_seconds=30),
            attempts,
            backoff_seconds=0.25,
            max_wait_seconds=max_wait_seconds,
            give_up_after_seconds=give_up_after_seconds,
        )

    def worth_retrying(self, status: int) -> bool:
        """Only the answers that say nothing was done: any other 5xx is shown as refused."""
        return status in _RETRYABLE_STATUSES

    async def submit(
        self,
        body: dict[str, Any],
        idempotency_key: str,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> SubmitOutcome:
        """``user_agent`` is the browser's: intake-api keeps it in the submission's audit entry,
        where this client's own (``python-httpx``) would say nothing."""
        headers = {"Idempotency-Key": idempotency_key, **_on_behalf_of(client_ip)}
        if user_agent:
            headers["User-Agent"] = user_agent
        response = await self._post("/v1/submissions", body, headers)
        if response is None:
            return Unavailable()
        if response.status_code in (200, 201):
            client_id = json_object(response).get("clientId")
            if isinstance(client_id, str) and client_id:
                return Submitted(client_id)
            logger.error("intake-api answered %s without a clientId", response.status_code)
            return Unavailable()
        if response.status_code == 409:
            return KeyReused()
        return _failure(response)

    async def lookup_status(
        self, client_id: str, email: str, client_ip: str | None = None
    ) -> LookupOutcome:
        response = await self._post(
            "/v1/status-lookup", {"clientId": client_id, "email": email}, _on_behalf_of(client_ip)
        )
        if response is None:
            return Unavailable()
        if response.status_code == 200:
            status = json_object(response).get("status")
            return StatusFound(status) if isinstance(status, str) else Unavailable()
        if response.status_code == 404:
            return StatusNotFound()
        return _failure(response)

    async def _post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response | None:
        """POST with retries; ``None`` when intake-api could not be reached in time."""
        try:
            return await self.send_with_retries("POST", path, json=body, headers=headers)
        except BreakerOpen:
            logger.warning("intake-api circuit open; not calling %s", path)
        except RETRYABLE_ERRORS as error:
            logger.warning("intake-api unavailable for %s: %s", path, type(error).__name__)
        return None


def _on_behalf_of(client_ip: str | None) -> dict[str, str]:
    """intake-api rate-limits per client: tell it which browser this request is for.

    intake-api honours the header only from trusted proxies (uvicorn's ``FORWARDED_ALLOW_IPS``).
    """
    return {"X-Forwarded-For": client_ip} if client_ip else {}


def _failure(response: httpx.Response) -> Invalid | Throttled | Refused:
    if response.status_code == 422:
        return Invalid(_field_problems(json_object(response)))
    if response.status_code == 429:
        return Throttled(_retry_after(response))
    logger.warning("intake-api refused the request with %s", response.status_code)
    return Refused(response.status_code)


def _field_problems(body: dict[str, Any]) -> tuple[FieldProblem, ...]:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return ()
    problems = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        path = error.get("path") or error.get("pointer") or error.get("loc")
        message = error.get("message") or error.get("detail") or error.get("msg") or ""
        if isinstance(path, list):
            path = ".".join(str(part) for part in path)
        if isinstance(path, str) and isinstance(message, str):
            problems.append(FieldProblem(normalise_path(path), message))
    return tuple(problems)


def normalise_path(path: str) -> str:
    """``/company/contact/email``, ``body.company.contact.email`` → ``company.contact.email``."""
    parts = [part for part in path.replace("/", ".").lstrip("#").split(".") if part]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts)


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "")
    try:
        seconds = int(value)
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS
    return max(1, min(seconds, 3600))
