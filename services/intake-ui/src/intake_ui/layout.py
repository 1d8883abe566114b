"""The page frame: the <head> (every asset self-hosted), the site header and footer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fasthtml import common as fh
from starlette.requests import Request

from intake_ui.assets import AssetManifest

SITE_NAME = "Client onboarding"
STAFF_SITE_NAME = f"{SITE_NAME} · Staff"
STATUS_PAGE_NAME = "Check your status"


def title(page: str, site: str = SITE_NAME) -> Any:
    """Every page's <title>: the page first (what a tab or a screen reader shows first), then
    the site."""
    return fh.Title(f"{page} \N{EN DASH} {site}")


# No inline script or style anywhere: the CSP forbids them. htmx reads its config from here.
HTMX_CONFIG = {
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "selfRequestsOnly": True,
    # No copies of pages (and the answers in them) in localStorage: Back and Forward load the
    # step's URL again, and app.js puts the tab's answers back.
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    # Settling copies old attributes onto swapped-in elements; a copied style attribute
    # would be an inline style, which the CSP refuses.
    "attributesToSettle": ["class", "width", "height"],
    # Re-rendered forms come back as 4xx/5xx with the user's answers and the messages: show them.
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "403", "swap": False, "error": True},
        {"code": "[2345]..", "swap": True},
    ],
}


def head(assets: AssetManifest) -> tuple[Any, ...]:
    return (
        fh.Meta(charset="utf-8"),
        fh.Meta(name="viewport", content="width=device-width, initial-scale=1"),
        fh.Meta(name="htmx-config", content=json.dumps(HTMX_CONFIG)),
        fh.Meta(name="color-scheme", content="light dark"),
        fh.Link(rel="icon", href=assets.url("favicon.svg"), type="image/svg+xml"),
        fh.Link(rel="stylesheet", href=assets.url("vendor/pico.min.css")),
        fh.Link(rel="stylesheet", href=assets.url("app.css")),
        fh.Script(src=assets.url("vendor/htmx.min.js"), defer=True),
        fh.Script(src=assets.url("app.js"), defer=True),
    )


@dataclass(frozen=True)
class SiteLinks:
    home: str
    status: str
    privacy: str


def frame(content: Any, req: Request) -> Any:
    """FastHTML ``body_wrap``: the header and footer around every full page."""
    links: SiteLinks = req.app.state.site_links
    return (
        fh.A("Skip to content", href="#main", cls="skip-link"),
        fh.Header(
            fh.Nav(
                fh.Ul(fh.Li(fh.A(fh.Strong(SITE_NAME), href=links.home, cls="brand"))),
                fh.Ul(fh.Li(fh.A(STATUS_PAGE_NAME, href=links.status))),
            ),
            cls="container site-header",
        ),
        fh.Main(content, id="main", cls="container", tabindex="-1"),
        fh.Footer(
            fh.Small(
                fh.A("Privacy notice", href=links.privacy),
                " · Your answers are sent securely and used only to reply to your request.",
            ),
            cls="container site-footer",
        ),
    )
