"""The composition root of intake-api: settings (and optionally adapters) in, an ASGI app out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from intake_api import probes, routes
from intake_api.dependencies import Adapters, Runtime
from intake_api.fast_path import FastPath
from intake_api.json_guard import JsonBodyGuard
from intake_api.metrics import ApiMetrics
from intake_api.problems import install_problem_handlers, internal_error
from intake_api.rate_limit import RateLimiter
from intake_api.relay import OutboxRelay, relay_owner
from intake_api.settings import IntakeApiSettings
from intake_api.submissions import SubmissionPolicy
from intake_core.bootstrap import open_publisher, open_store
from intake_core.guarded_store import store_breaker
from intake_core.http_metrics import RequestMetrics
from intake_core.telemetry import fastapi_telemetry
from intake_core.web import (
    API_SECURITY_HEADERS,
    BodyLimit,
    LastResort,
    RequestContext,
    SecurityHeaders,
    install_openapi,
    problem_body_refusal,
)


async def _open_adapters(settings: IntakeApiSettings, stack: AsyncExitStack) -> Adapters:
    store = await open_store(settings)
    stack.push_async_callback(store.close)
    publisher = await open_publisher(settings)
    stack.push_async_callback(publisher.close)
    return Adapters(store=store, publisher=publisher)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _runtime(settings: IntakeApiSettings) -> Runtime:
    metrics = ApiMetrics()
    breaker = store_breaker(settings.store_breaker_failures, settings.store_breaker_reset_seconds)
    metrics.store_breaker_open.set_function(lambda: 1.0 if breaker.is_open else 0.0)
    policy = SubmissionPolicy(
        ip_hash_key=settings.ip_hash_salt.get_secret_value().encode(),
        privacy_notice_versions=frozenset(settings.privacy_notice_versions),
        publish_timeout_seconds=settings.publish_timeout_seconds,
        fast_path=FastPath(metrics=metrics),
    )
    bus_breaker = policy.fast_path.breaker
    metrics.bus_breaker_open.set_function(lambda: 0.0 if bus_breaker.admits() else 1.0)
    return Runtime(
        settings=settings,
        metrics=metrics,
        policy=policy,
        submission_limiter=RateLimiter(settings.rate_limit_per_minute),
        lookup_limiter=RateLimiter(settings.rate_limit_per_minute),
        store_breaker=breaker,
    )


def create_app(settings: IntakeApiSettings, deps: Adapters | None = None) -> FastAPI:
    """Build the app; without ``deps`` its lifespan opens (and closes) the configured adapters."""
    runtime = _runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            adapters = deps if deps is not None else await _open_adapters(settings, stack)
            # Runs before the adapters close: fast-path publishes in flight may finish.
            stack.push_async_callback(runtime.policy.fast_path.drain)
            runtime.attach(adapters)
            if settings.relay_enabled:
                relay = OutboxRelay(
                    adapters.store,
                    adapters.publisher,
                    owner=relay_owner(),
                    batch_size=settings.relay_batch_size,
                    lease_seconds=settings.relay_lease_seconds,
                    poll_interval=settings.relay_poll_interval_seconds,
                    publish_timeout=settings.publish_timeout_seconds,
                    # Until the fast path's publish of an event has timed out, the event is its
                    # (should the relay take one still on its way, the bus drops the repeat).
                    min_age_seconds=settings.publish_timeout_seconds,
                    metrics=runtime.metrics,
                )
                task = asyncio.create_task(relay.run_forever(), name="outbox-relay")
                stack.push_async_callback(_stop, task)
            yield
            runtime.attach(None)

    app = FastAPI(
        title="intake-api",
        version=version("intake-api"),
        description="Public intake API of the client onboarding platform.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # A plain dict: intake-core does not depend on FastAPI for its TelemetryConfig type.
        telemetry=fastapi_telemetry(),  # type: ignore[arg-type]
    )
    app.state.runtime = runtime
    app.include_router(routes.router)
    app.include_router(probes.router)
    install_problem_handlers(app, runtime.store_breaker)
    install_openapi(app)

    # Routers are included by reference, so their routes are listed from the routers themselves.
    templates = {
        path
        for route in (*app.routes, *routes.router.routes, *probes.router.routes)
        if (path := getattr(route, "path", None))
    }
    # Added innermost first: each add_middleware wraps everything added before it.
    app.add_middleware(
        JsonBodyGuard,
        paths={"/v1/submissions", "/v1/status-lookup"},
        parsed_by_route={"/v1/submissions"},  # SubmissionRoute
    )
    max_body = settings.max_body_bytes
    app.add_middleware(BodyLimit, max_bytes=max_body, on_refuse=problem_body_refusal(max_body))
    app.add_middleware(LastResort, answer=internal_error)
    app.add_middleware(RequestMetrics, metrics=runtime.metrics, templates=templates)
    # Each request's id in its log lines and its answer (about 6 µs a request).
    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders, headers=API_SECURITY_HEADERS)
    return app
