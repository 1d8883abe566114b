"""Composition root of the intake UI: ``create_app(settings, deps=None)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from fasthtml import common as fh
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from intake_core.http_metrics import RequestMetrics
from intake_core.telemetry import EXCLUDED_URLS
from intake_core.web import BodyLimit, SecurityHeaders
from intake_ui import (
    admin,
    admin_problems,
    admin_views,
    dev_mailbox,
    layout,
    onboarding,
    pages,
    sign_in,
    status,
)
from intake_ui.admin_api import AdminApiClient, AdminApiError
from intake_ui.assets import AssetManifest, FingerprintedAssets
from intake_ui.entra_sign_in import EntraSignIn
from intake_ui.intake_api import IntakeApiClient
from intake_ui.metrics import UiMetrics
from intake_ui.security import (
    refused_body_page,
    require_csrf_token,
    security_headers,
    session_cookie_name,
)
from intake_ui.settings import IntakeUiSettings
from intake_ui.staff_session import SignInRequired, StaffCookies

SESSION_MAX_AGE_SECONDS = 14 * 24 * 3600

_ERRORS = {
    400: ("Something went wrong with that form", "Please go back and try again."),
    403: (
        "This form has expired",
        "For your security the form could not be verified. Reload the page and try again; "
        "if you were in the middle of the form, go back first to keep your answers.",
    ),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too much text", "The form was too large to accept. Shorten your answers and try again."),
    500: ("Something went wrong", "Sorry, something went wrong on our side. Please try again."),
}


@dataclass(frozen=True)
class UiDeps:
    """Clients tests pass in; whatever is missing is built from the settings at start-up."""

    intake_api: IntakeApiClient | None = None
    admin_api: AdminApiClient | None = None
    staff_sign_in: EntraSignIn | None = None


def create_app(
    settings: IntakeUiSettings, deps: UiDeps | IntakeApiClient | None = None
) -> fh.FastHTML:
    given = UiDeps(intake_api=deps) if isinstance(deps, IntakeApiClient) else deps or UiDeps()
    assets = AssetManifest()
    headers = security_headers(https=settings.secure_cookies)
    links = layout.SiteLinks(
        home=onboarding.index.to(), status=status.status_form.to(), privacy=onboarding.privacy.to()
    )

    # FastHTML takes the lifespan as a bare async generator function.
    async def lifespan(app: fh.FastHTML) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            intake_api = given.intake_api or IntakeApiClient.for_url(
                settings.intake_api_url,
                settings.request_timeout_seconds,
                attempts=settings.submit_attempts,
            )
            admin_api = given.admin_api or AdminApiClient.for_url(
                settings.admin_api_url, settings.request_timeout_seconds
            )
            entra = given.staff_sign_in or _entra_sign_in(settings)
            for client, built in ((intake_api, given.intake_api is None),
                                  (admin_api, given.admin_api is None),
                                  (entra, given.staff_sign_in is None)):  # fmt: skip
                if client is not None and built:
                    opened.push_async_callback(client.aclose)
            app.state.intake_api = intake_api
            app.state.admin_api = admin_api
            app.state.staff_sign_in = entra
            yield

    metrics = UiMetrics()
    exception_handlers: dict[int | type[Exception], Any] = {
        **_error_handlers(links.home, headers),
        AdminApiError: admin_problems.api_problem,
        SignInRequired: admin_problems.sign_in_required,
    }
    app = fh.FastHTML(
        default_hdrs=False,
        canonical=False,
        title=layout.SITE_NAME,
        hdrs=layout.head(assets),
        htmlkw={"lang": "en"},
        body_wrap=layout.frame,
        secret_key=settings.secret_key,
        session_cookie=session_cookie_name(secure=settings.secure_cookies),
        max_age=SESSION_MAX_AGE_SECONDS,
        sess_https_only=settings.secure_cookies,
        same_site="lax",
        before=[fh.Beforeware(require_csrf_token, skip=list(onboarding.CHECKS_OWN_TOKEN))],
        lifespan=lifespan,
        exception_handlers=exception_handlers,
        middleware=[
            # Outermost: a server span per request, the parent of the calls to the APIs.
            Middleware(OpenTelemetryMiddleware, excluded_urls=EXCLUDED_URLS),
            Middleware(RequestMetrics, metrics=metrics),
            Middleware(SecurityHeaders, headers=headers),
            Middleware(FingerprintedAssets, manifest=assets),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes, on_refuse=refused_body_page),
        ],
    )
    app.state.settings = settings
    app.state.session_cookie = session_cookie_name(secure=settings.secure_cookies)
    app.state.site_links = links
    app.state.staff_links = admin_views.StaffLinks(
        dashboard=admin.dashboard.to(),
        figures=admin.figures.to(),
        sign_out=sign_in.sign_out.to(),
        mailbox=dev_mailbox.mailbox.to() if settings.is_dev else None,
    )
    app.state.staff_cookies = StaffCookies(settings.secret_key, secure=settings.secure_cookies)
    # Also usable without running the lifespan (e.g. a TestClient outside `with`).
    app.state.intake_api = given.intake_api
    app.state.admin_api = given.admin_api
    app.state.staff_sign_in = given.staff_sign_in
    for router in (onboarding.rt, status.rt, sign_in.rt, admin.rt, dev_mailbox.rt):
        router.to_app(app)
    # The probes sit beside the pages, not in the public form's router: plain JSON, no frame.
    app.routes.append(Route("/healthz", _alive, methods=["GET"]))
    app.routes.append(Route("/metrics", metrics.exposition, methods=["GET"]))
    # The clients are built in the lifespan: read them from the app's state at scrape time.
    for dependency, attribute in (("intake-api", "intake_api"), ("admin-api", "admin_api")):
        metrics.watch_breaker(dependency, partial(_breaker_open, app, attribute))
    return app


async def _alive(_: Request) -> JSONResponse:
    """The liveness probe: the process answers. It asks neither API (their outages show as a
    page that says so, and a restart would not mend them)."""
    return JSONResponse({"status": "ok"})


def _breaker_open(app: fh.FastHTML, attribute: str) -> bool:
    client = getattr(app.state, attribute, None)
    return bool(getattr(client, "breaker_open", False))


def _entra_sign_in(settings: IntakeUiSettings) -> EntraSignIn | None:
    if not (settings.admin_oidc_authority and settings.admin_oidc_client_id):
        return None
    secret = settings.admin_oidc_client_secret
    return EntraSignIn(
        httpx.AsyncClient(timeout=httpx.Timeout(settings.request_timeout_seconds)),
        authority=settings.admin_oidc_authority,
        client_id=settings.admin_oidc_client_id,
        scopes=settings.admin_oidc_scopes,
        client_secret=secret.get_secret_value() if secret else None,
    )


def _error_handlers(home: str, headers: dict[str, str]) -> dict[int | type[Exception], Any]:
    """Friendly pages for errors. 500 is answered outside the middleware, so it gets the
    security headers here."""

    def handler(status_code: int) -> Any:
        def render(req: Request, exc: Exception) -> Any:
            title, message = _ERRORS[status_code]
            body = pages.error_page(status_code, title, message, home)
            return fh.FtResponse(
                (layout.title(title), body), status_code=status_code, headers=headers
            )

        return render

    return {code: handler(code) for code in _ERRORS}
