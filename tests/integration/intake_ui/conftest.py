"""Fixtures for the UI route tests.

``testkit.py`` (fake intake-api, uvicorn runner, sample answers) is loaded as the module
``intake_ui_testkit``, ``admin_testkit.py`` (fake admin-api, fake Entra ID) as
``intake_ui_admin_testkit``: with --import-mode=importlib test folders are not packages, and a
package here named ``intake_ui`` would shadow the real one.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from intake_core.auth import DevIssuer, TokenVerifier
from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER
from intake_ui.admin_api import AdminApiClient
from intake_ui.app import UiDeps, create_app
from intake_ui.intake_api import IntakeApiClient
from intake_ui.settings import IntakeUiSettings


def _load_testkit(name: str = "intake_ui_testkit", file: str = "testkit.py") -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_testkit()
_load_testkit("intake_ui_admin_testkit", "admin_testkit.py")
from intake_ui_admin_testkit import FakeAdminApi  # noqa: E402
from intake_ui_testkit import FakeIntakeApi  # noqa: E402


@pytest.fixture
def fake_api() -> FakeIntakeApi:
    return FakeIntakeApi()


@pytest.fixture
def client(fake_api: FakeIntakeApi) -> Iterator[TestClient]:
    """The UI app with a fake intake-api served in-process through httpx.ASGITransport."""
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake_api.app()), base_url="http://intake-api"
    )
    api = IntakeApiClient(http, attempts=3, max_wait_seconds=0.01)
    app = create_app(IntakeUiSettings(environment="test"), deps=api)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def fake_admin_api(tmp_path: Path) -> FakeAdminApi:
    """Checks tokens like admin-api in dev: signed by the dev issuer in ``tmp_path``."""
    verifier = TokenVerifier(DEV_ISSUER, ADMIN_AUDIENCE, dev_issuer=DevIssuer(tmp_path))
    return FakeAdminApi(verifier)


def admin_api_client(app: object) -> AdminApiClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin-api")  # type: ignore[arg-type]
    return AdminApiClient(http, max_wait_seconds=0.01)


@pytest.fixture
def admin_client(
    tmp_path: Path, fake_api: FakeIntakeApi, fake_admin_api: FakeAdminApi
) -> Iterator[TestClient]:
    """The UI (dev sign-in on, data dir in ``tmp_path``) with the fake admin-api in-process
    through httpx.ASGITransport."""
    intake_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake_api.app()), base_url="http://intake-api"
    )
    deps = UiDeps(
        intake_api=IntakeApiClient(intake_http, attempts=1),
        admin_api=admin_api_client(fake_admin_api.app()),
    )
    settings = IntakeUiSettings(environment="test", INTAKE_DATA_DIR=tmp_path)
    with TestClient(create_app(settings, deps=deps), follow_redirects=False) as test_client:
        yield test_client
