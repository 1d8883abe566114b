"""No span the services export holds what staff searched for.

A staff search runs as in production: the browser posts it to the dashboard (intake-ui, its
ASGI server span; the text is in the body, never in the dashboard's URLs), which calls
admin-api with ``GET /v1/submissions?q=…`` through its instrumented httpx client (a client
span), and admin-api answers under FastAPI's own telemetry (a server span). The spans go through
the tracer provider the entry points build, with an in-memory exporter where Azure Monitor's
would be, and every exported name, attribute, event and status is searched for the text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.responses import Response

from intake_core import telemetry
from intake_ui.admin_api import AdminApiClient
from intake_ui.app import UiDeps, create_app
from intake_ui.settings import IntakeUiSettings
from intake_ui.staff_session import StaffSession
from support.pii import fragments_in

CONTACT_NAME = "Grace Hopper"
CONTACT_EMAIL = "grace.hopper@example.com"
SEARCH_TEXT = ("grace", "hopper")


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[ReadableSpan]]]:
    """What the services' tracer provider exports: ``tracer_provider`` as the entry points
    build it with an exporter, an in-memory one in the Azure Monitor exporter's place,
    installed as this process's provider for the test (OpenTelemetry sets a process's
    provider once, and tests/conftest.py did, so it is swapped)."""
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(telemetry, "_exporter", lambda *_: exporter)
    provider = telemetry.tracer_provider("intake-ui", "azuremonitor")
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)

    def spans() -> list[ReadableSpan]:
        provider.force_flush()
        return list(exporter.get_finished_spans())

    yield spans
    provider.shutdown()


def held(span: ReadableSpan) -> str:
    """All a span holds, as text: name, attributes, status, events."""
    events = [(event.name, dict(event.attributes or {})) for event in span.events]
    return repr((span.name, dict(span.attributes or {}), span.status.description, events))


def dashboard(harness, tmp_path: Path) -> httpx.AsyncClient:
    """A browser on intake-ui's dashboard, signed in, over the real admin-api in ``harness``.

    The admin client is instrumented as ``AdminApiClient.for_url`` instruments it, with
    admin-api in-process instead of over the network.
    """

    async def admin_api(scope, receive, send):
        # With the state admin-api's lifespan left, which the harness's TestClient holds.
        state = harness.client.app_state.copy()
        await harness.client.app({**scope, "state": state}, receive, send)

    to_admin_api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin_api), base_url="http://admin-api"
    )
    HTTPXClientInstrumentor.instrument_client(to_admin_api)
    ui = create_app(
        IntakeUiSettings(environment="test", INTAKE_DATA_DIR=tmp_path),
        deps=UiDeps(admin_api=AdminApiClient(to_admin_api)),
    )
    signed_in = Response()
    staff = StaffSession(
        "Dev Staff",
        frozenset({"Submissions.Read", "Submissions.Export"}),
        harness.token("Submissions.Read", "Submissions.Export"),
        int(time.time()) + 600,
    )
    ui.state.staff_cookies.write(signed_in, staff)
    cookies = SimpleCookie()
    for header in signed_in.headers.getlist("set-cookie"):
        cookies.load(header)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ui),
        base_url="https://onboarding.example",
        headers={"cookie": "; ".join(f"{name}={c.value}" for name, c in cookies.items())},
    )


def test_a_staff_search_leaves_no_search_text_in_exported_spans(
    harness, tmp_path: Path, exported: Callable[[], list[ReadableSpan]]
) -> None:
    harness.seed(name="Analytical Engines Ltd", contact_name=CONTACT_NAME, email=CONTACT_EMAIL)
    browser = dashboard(harness, tmp_path)

    async def search() -> None:
        async with browser:
            # The list first, as a browser opens it: it holds the forms' CSRF token, bound to
            # the session cookie it sets.
            listing = await browser.get("/admin")
            token = re.search(r'name="csrf_token" value="([^"]+)"', listing.text)
            assert token is not None
            session = listing.cookies["intake_ui_session"]
            browser.headers["cookie"] += f"; intake_ui_session={session}"
            form = {"csrf_token": token.group(1)}
            for text in (CONTACT_EMAIL, CONTACT_NAME):
                page = await browser.post("/admin", data={**form, "q": text})
                assert page.status_code == 200 and "Analytical Engines Ltd" in page.text
            download = await browser.post(
                "/admin/submissions.csv", data={**form, "q": CONTACT_EMAIL}
            )
            assert download.status_code == 200 and CONTACT_EMAIL in download.text

    harness.run(search)

    spans = exported()
    names = [span.name for span in spans]
    # The three spans of each request were exported: the check below is not vacuous.
    assert names.count("POST /admin") == 2 and names.count("GET /v1/submissions") == 3
    assert "POST /admin/submissions.csv" in names and "GET /v1/submissions.csv" in names
    assert names.count("GET") == 4  # the dashboard's calls to admin-api
    text = "\n".join(held(span) for span in spans)
    assert fragments_in(text, SEARCH_TEXT, ignore_case=True) == []
    assert "'http.url': 'https://onboarding.example/admin'" in text  # the path stays
    assert "'http.url': 'http://admin-api/v1/submissions'" in text
    assert "'url.path': '/v1/submissions'" in text
