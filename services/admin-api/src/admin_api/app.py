"""The admin-api application: staff search, view, manage, export and erase submissions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from admin_api import problems
from admin_api.deps import AdminDeps, Runtime
from admin_api.limits import BodyLimit
from admin_api.observability import HttpMetrics, RequestContext
from admin_api.paging import PageTokens
from admin_api.routes import audit, health, submissions
from admin_api.settings import AdminApiSettings
from intake_core.bootstrap import open_queue, open_store, token_verifier
from intake_core.web import API_SECURITY_HEADERS, SecurityHeaders


def create_app(settings: AdminApiSettings, deps: AdminDeps | None = None) -> FastAPI:
    """``deps`` given: use them (the caller opens and closes them). Otherwise open the adapters
    the settings name when the app starts, and close them when it stops."""
    metrics = HttpMetrics()
    page_tokens = PageTokens(settings.admin_page_token_secret.get_secret_value().encode())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        if deps is not None:
            yield {"runtime": Runtime(deps, page_tokens, metrics)}
            return
        async with AsyncExitStack() as opened:
            store = await open_store(settings)
            opened.push_async_callback(store.close)
            queue = None
            if settings.bus == "local":
                queue = await open_queue(settings)
                opened.push_async_callback(queue.close)
            adapters = AdminDeps(store=store, verifier=token_verifier(settings), queue=queue)
            yield {"runtime": Runtime(adapters, page_tokens, metrics)}

    app = FastAPI(
        title="admin-api",
        summary="Staff search, view, status workflow, export, audit trail and erasure",
        version="1",
        lifespan=lifespan,
        # No Swagger UI or ReDoc: both load their assets from a CDN. /openapi.json stays.
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(submissions.router)
    app.include_router(audit.router)
    app.add_middleware(BodyLimit, max_bytes=settings.admin_max_body_bytes)
    app.add_middleware(RequestContext, metrics=metrics)
    app.add_middleware(SecurityHeaders, headers=API_SECURITY_HEADERS)
    return app
