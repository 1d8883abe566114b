"""What routes depend on, published as ``Annotated`` aliases so routes read like domain words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from admin_api.context import AdminContext
from admin_api.problems import InvalidInput, NotJson
from intake_core.auth import TokenVerifier
from intake_core.domain.client_id import InvalidClientId, normalise_client_id
from intake_core.http_metrics import HttpMetrics
from intake_core.ports.cache import ReadCache
from intake_core.ports.queue import SubjectQueue
from intake_core.ports.staff import StaffSubmissionStore
from intake_core.web import is_json_media_type


@dataclass(frozen=True)
class AdminDeps:
    """The adapters admin-api talks to: tests pass them in, or the lifespan opens them.

    ``queue`` is the embedded event queue, whose waiting messages an erasure purges; None with
    Service Bus, which cannot delete undelivered messages (the notifier skips erased records).
    ``cache`` keeps records staff read often and the dashboard figures; None reads everything
    from the store."""

    store: StaffSubmissionStore
    verifier: TokenVerifier
    queue: SubjectQueue | None = None
    cache: ReadCache | None = None


@dataclass(frozen=True)
class Runtime:
    """What the lifespan hands every request (``request.state``). ``context`` is what the use
    cases work with: its ``store`` is ``deps.store`` behind the store's circuit breaker (what
    every route uses), its ``cache`` is ``deps.cache`` or one that keeps nothing."""

    deps: AdminDeps
    metrics: HttpMetrics
    context: AdminContext


# The dependencies below are async although they do not wait: FastAPI runs a plain ``def``
# dependency in a worker thread, a hop per dependency per request.
def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.state.runtime
    return runtime


async def _store(request: Request) -> StaffSubmissionStore:
    return _runtime(request).context.store


async def _context(request: Request) -> AdminContext:
    return _runtime(request).context


async def _metrics(request: Request) -> HttpMetrics:
    return _runtime(request).metrics


async def _request_id(request: Request) -> str:
    request_id: str = request.scope["state"]["request_id"]
    return request_id


async def _client_id(client_id: Annotated[str, Path(alias="clientId", max_length=64)]) -> str:
    try:
        return normalise_client_id(client_id)
    except InvalidClientId as error:
        raise InvalidInput("clientId", str(error), location="path") from None


async def json_only(request: Request) -> None:
    """Refuses (415) a body sent as anything but JSON, which FastAPI would read as a string and
    answer 422 about the model. No body passes: an erasure may come without one. A route lists
    it in its ``dependencies`` after its role, so a caller without the role hears 403 whatever
    it sent."""
    headers = request.headers
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if has_body and not is_json_media_type(headers.get("content-type")):
        raise NotJson


StoreDep = Annotated[StaffSubmissionStore, Depends(_store)]
ContextDep = Annotated[AdminContext, Depends(_context)]
MetricsDep = Annotated[HttpMetrics, Depends(_metrics)]
RequestId = Annotated[str, Depends(_request_id)]
ClientId = Annotated[str, Depends(_client_id)]
