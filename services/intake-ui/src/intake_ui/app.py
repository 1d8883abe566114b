"""Composition root of the intake UI: ``create_app(settings, deps=None)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fasthtml import common as fh
from starlette.middleware import Middleware
from starlette.requests import Request

from intake_core.web import SecurityHeaders
from intake_ui import admin, layout, onboarding, pages, status
from intake_ui.assets import AssetManifest, FingerprintedAssets
from intake_ui.intake_api import IntakeApiClient
from intake_ui.security import BodySizeLimit, require_csrf_token, security_headers
from intake_ui.settings import IntakeUiSettings

SESSION_COOKIE = "intake_ui_session"
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


def create_app(settings: IntakeUiSettings, deps: IntakeApiClient | None = None) -> fh.FastHTML:
    assets = AssetManifest()
    headers = security_headers(https=settings.secure_cookies)
    links = layout.SiteLinks(
        home=onboarding.index.to(), status=status.status_form.to(), privacy=onboarding.privacy.to()
    )

    # FastHTML takes the lifespan as a bare async generator function.
    async def lifespan(app: fh.FastHTML) -> AsyncIterator[None]:
        if deps is not None:
            app.state.intake_api = deps
            yield
            return
        client = IntakeApiClient.for_url(
            settings.intake_api_url, settings.request_timeout_seconds, settings.submit_attempts
        )
        app.state.intake_api = client
        try:
            yield
        finally:
            await client.aclose()

    app = fh.FastHTML(
        default_hdrs=False,
        canonical=False,
        title="Client onboarding",
        hdrs=layout.head(assets),
        htmlkw={"lang": "en"},
        body_wrap=layout.frame,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        sess_https_only=settings.secure_cookies,
        same_site="lax",
        before=[require_csrf_token],
        lifespan=lifespan,
        exception_handlers=_error_handlers(links.home, headers),
        middleware=[
            Middleware(SecurityHeaders, headers=headers),
            Middleware(FingerprintedAssets, manifest=assets),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
    )
    app.state.settings = settings
    app.state.site_links = links
    if deps is not None:
        # Also usable without running the lifespan (e.g. a TestClient outside `with`).
        app.state.intake_api = deps
    for router in (onboarding.rt, status.rt, admin.rt):
        router.to_app(app)
    return app


def _error_handlers(home: str, headers: dict[str, str]) -> dict[int, Any]:
    """Friendly pages for errors. 500 is answered outside the middleware, so it gets the
    security headers here."""

    def handler(status_code: int) -> Any:
        def render(req: Request, exc: Exception) -> Any:
            title, message = _ERRORS[status_code]
            body = pages.error_page(status_code, title, message, home)
            return fh.FtResponse((fh.Title(title), body), status_code=status_code, headers=headers)

        return render

    return {code: handler(code) for code in _ERRORS}
