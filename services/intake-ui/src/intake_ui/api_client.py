"""What the UI's clients of intake-api and admin-api share: one httpx client per process, a
circuit breaker, and bounded retries (tenacity, exponential with jitter) inside it.

The breaker guards a call with all its tries, so a call that fails every try counts once. It
counts what the tries end with: a transport error, or an answer worth another try raised as
:class:`RetryableAnswer`; any other answer is the API answering, success or refusal alike.
Each client decides what a failure means to its pages and which of its calls may be retried.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from starlette.requests import HTTPConnection
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from intake_core.breakers import Breaker


class RetryableAnswer(Exception):
    """An answer worth another try (a 503, or a 502/504 from a proxy); the status is its text."""


RETRYABLE_ERRORS = (httpx.TransportError, RetryableAnswer)


class ApiClient:
    """One API over HTTP, built in the app's lifespan with :meth:`for_url` or passed by tests.

    The app keeps it as ``app.state.<state_key>``, where FastHTML routes find it when they
    declare it as a parameter.
    """

    state_key: ClassVar[str]

    def __init__(
        self,
        http: httpx.AsyncClient,
        breaker: Breaker,
        attempts: int,
        *,
        backoff_seconds: float,
        max_wait_seconds: float,
        give_up_after_seconds: float = math.inf,
    ) -> None:
        self._http = http
        self._breaker = breaker
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._max_wait = max_wait_seconds
        self._give_up_after = give_up_after_seconds

    @classmethod
    def for_url(cls, base_url: str, timeout_seconds: float, **options: Any) -> Self:
        http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
            headers={"accept": "application/json, application/problem+json"},
        )
        # Outgoing calls carry the traceparent, so the API's spans join the UI's trace.
        HTTPXClientInstrumentor.instrument_client(http)
        return cls(http, **options)

    @classmethod
    def __from_request__(cls, req: HTTPConnection) -> Self:
        """Lets FastHTML routes declare the client as a parameter (``api: AdminApiClient``)."""
        client = getattr(req.app.state, cls.state_key)
        assert isinstance(client, cls)
        return client

    @property
    def breaker_open(self) -> bool:
        return self._breaker.is_open

    async def aclose(self) -> None:
        await self._http.aclose()

    def worth_retrying(self, status: int) -> bool:
        """Whether an answer with ``status`` may be sent again: by default any 5xx."""
        return status >= 500

    async def send_with_retries(
        self, method: str, path: str, *, retry: bool = True, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Send through the breaker, retried unless ``retry`` is false (a change whose lost
        answer must not be sent again). Raises :class:`~intake_core.breakers.BreakerOpen`
        without calling while the breaker is open, or the last try's error from
        :data:`RETRYABLE_ERRORS` (or any other ``httpx.HTTPError``, not retried)."""
        with self._breaker.guarding():
            return await self._with_retries(
                method, path, attempts=self._attempts if retry else 1, stream=stream, **kwargs
            )

    async def _with_retries(
        self, method: str, path: str, *, attempts: int, stream: bool, **kwargs: Any
    ) -> httpx.Response:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RETRYABLE_ERRORS),
            stop=stop_after_attempt(attempts) | stop_after_delay(self._give_up_after),
            wait=wait_random_exponential(multiplier=self._backoff, max=self._max_wait),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                request = self._http.build_request(method, path, **kwargs)
                response = await self._http.send(request, stream=stream)
                if self.worth_retrying(response.status_code):
                    await response.aclose()
                    raise RetryableAnswer(str(response.status_code))
                return response
        raise AssertionError("unreachable: tenacity either returns or raises")


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or an empty one when it is not JSON or not an object."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
