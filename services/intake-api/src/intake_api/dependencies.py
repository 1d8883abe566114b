"""What routes depend on, published as ``Annotated`` aliases so routes read in domain words."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from intake_api.metrics import ApiMetrics
from intake_api.problems import ApiProblem
from intake_api.rate_limit import RateLimiter, retry_after_header
from intake_api.settings import IntakeApiSettings
from intake_api.submissions import Clock, SubmissionPolicy
from intake_core.breakers import Breaker
from intake_core.guarded_store import GuardedIntakeStore, store_breaker
from intake_core.ports.intake import ClientSubmissionStore, IntakeStore
from intake_core.ports.queue import EventPublisher

IDEMPOTENCY_KEY_MAX_CHARS = 255


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Adapters:
    """The opened adapters the app uses; tests pass their own to ``create_app``."""

    store: IntakeStore
    publisher: EventPublisher
    clock: Clock = field(default=utc_now)


@dataclass
class Runtime:
    """Everything a request may need, built once per app."""

    settings: IntakeApiSettings
    metrics: ApiMetrics
    policy: SubmissionPolicy
    submission_limiter: RateLimiter
    lookup_limiter: RateLimiter
    store_breaker: Breaker = field(default_factory=store_breaker)
    adapters: Adapters | None = None
    # The same, the store behind ``store_breaker``: what the public routes use. The probes,
    # /metrics and the relay use the store itself, so they never count towards its breaker.
    _guarded: Adapters | None = field(default=None, init=False, repr=False)

    def attach(self, adapters: Adapters | None) -> None:
        """The lifespan's adapters once opened; None once they are closed."""
        self.adapters = adapters
        self._guarded = None
        if adapters is not None:
            guarded_store = GuardedIntakeStore(adapters.store, self.store_breaker)
            self._guarded = replace(adapters, store=guarded_store)

    def opened(self) -> Adapters:
        if self.adapters is None:
            raise RuntimeError("the app's lifespan has not opened the adapters")
        return self.adapters

    def guarded(self) -> Adapters:
        """:meth:`opened`, with the store behind its circuit breaker."""
        if self._guarded is None:
            raise RuntimeError("the app's lifespan has not opened the adapters")
        return self._guarded


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def _store(runtime: RuntimeDep) -> ClientSubmissionStore:
    return runtime.guarded().store


StoreDep = Annotated[ClientSubmissionStore, Depends(_store)]


async def source_ip(request: Request) -> str:
    # Behind the ingress, uvicorn's --proxy-headers puts the real client address here.
    return request.client.host if request.client else "unknown"


SourceIp = Annotated[str, Depends(source_ip)]


def _limit(limiter: RateLimiter, runtime: Runtime, client: str) -> None:
    if not runtime.settings.rate_limit_enabled:
        return
    wait = limiter.acquire(client)
    if wait is not None:
        raise ApiProblem(
            429,
            "Too many requests from your address. Please wait and try again.",
            headers={"retry-after": retry_after_header(wait)},
        )


@dataclass(frozen=True)
class Intake:
    """What taking a submission needs from the app and the request, after the rate limit.

    One dependency rather than one each for the runtime, store, publisher, clock, address and
    limit: FastAPI's bookkeeping per dependency was about a tenth of a submission's CPU time.
    """

    runtime: Runtime
    adapters: Adapters
    source_ip: str


async def submission_intake(request: Request) -> Intake:
    runtime: Runtime = request.app.state.runtime
    client = await source_ip(request)
    try:
        _limit(runtime.submission_limiter, runtime, client)
    except ApiProblem:
        runtime.metrics.submissions.labels("rate_limited").inc()
        raise
    return Intake(runtime=runtime, adapters=runtime.guarded(), source_ip=client)


SubmissionIntake = Annotated[Intake, Depends(submission_intake)]


async def lookup_rate_limit(runtime: RuntimeDep, client: SourceIp) -> None:
    _limit(runtime.lookup_limiter, runtime, client)


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string (1-255 printable ASCII characters, e.g. a UUID)."
            " Repeating a request with the same key returns the first result.",
        ),
    ] = None,
) -> str | None:
    if key is None:
        return None
    printable_ascii = all(" " <= char <= "~" for char in key)
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX_CHARS or not printable_ascii:
        raise ApiProblem(400, "Idempotency-Key must be 1 to 255 printable ASCII characters.")
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
