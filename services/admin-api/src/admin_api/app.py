"""The admin-api application: staff search, view, manage, export and erase submissions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI

from admin_api import problems
from admin_api.context import AdminContext
from admin_api.deps import AdminDeps, Runtime
from admin_api.figures_cache import FiguresCache
from admin_api.metrics import AdminMetrics
from admin_api.paging import PageTokens
from admin_api.record_cache import RecordCache
from admin_api.routes import audit, figures, health, submissions
from admin_api.settings import AdminApiSettings
from admin_api.staff import StaffAuthentication
from intake_core.adapters.memory_cache import NoReadCache
from intake_core.bootstrap import open_cache, open_queue, open_store, token_verifier
from intake_core.guarded_store import GuardedStaffStore, store_breaker
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


def create_app(settings: AdminApiSettings, deps: AdminDeps | None = None) -> FastAPI:
    """``deps`` given: use them (the caller opens and closes them). Otherwise open the adapters
    the settings name when the app starts, and close them when it stops."""
    metrics = AdminMetrics()
    page_tokens = PageTokens(settings.admin_page_token_secret.get_secret_value().encode())
    breaker = store_breaker(settings.store_breaker_failures, settings.store_breaker_reset_seconds)
    metrics.store_breaker_open.set_function(lambda: 1.0 if breaker.is_open else 0.0)

    def runtime(adapters: AdminDeps) -> Runtime:
        # Not ``adapters.cache or …``: an empty in-process cache has a length of 0.
        cache = adapters.cache if adapters.cache is not None else NoReadCache()
        context = AdminContext(
            store=GuardedStaffStore(adapters.store, breaker),
            cache=cache,
            records=RecordCache(cache, settings.cache_ttl_seconds),
            figures=FiguresCache(cache, settings.admin_figures_cache_seconds),
            page_tokens=page_tokens,
            queue=adapters.queue,
        )
        return Runtime(adapters, metrics, context)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if deps is not None:
            yield {"runtime": runtime(deps)}
            return
        async with AsyncExitStack() as opened:
            store = await open_store(settings)
            opened.push_async_callback(store.close)
            queue = None
            if settings.bus == "local":
                queue = await open_queue(settings)
                opened.push_async_callback(queue.close)
            cache = await open_cache(settings)
            opened.push_async_callback(cache.close)
            adapters = AdminDeps(
                store=store, verifier=token_verifier(settings), queue=queue, cache=cache
            )
            yield {"runtime": runtime(adapters)}

    app = FastAPI(
        title="admin-api",
        summary="Staff search, view, status workflow, export, audit trail, erasure and figures",
        version=version("admin-api"),
        lifespan=lifespan,
        # No Swagger UI or ReDoc: both load their assets from a CDN. /openapi.json stays.
        docs_url=None,
        redoc_url=None,
        # A plain dict: intake-core does not depend on FastAPI for its TelemetryConfig type.
        telemetry=fastapi_telemetry(),  # type: ignore[arg-type]
    )
    problems.install(app, breaker)
    app.include_router(health.router)
    app.include_router(submissions.router)
    app.include_router(audit.router)
    app.include_router(figures.router)
    install_openapi(app)
    # Inside the body limit: an oversized body is refused (413) before anything reads it.
    app.add_middleware(StaffAuthentication, routes=app.router.routes)
    max_body = settings.admin_max_body_bytes
    app.add_middleware(BodyLimit, max_bytes=max_body, on_refuse=problem_body_refusal(max_body))
    app.add_middleware(LastResort, answer=problems.internal_error)  # inside the headers
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders, headers=API_SECURITY_HEADERS)
    return app
