"""Fixtures for the UI route tests.

``testkit.py`` (fake intake-api, uvicorn runner, sample answers) is loaded as the module
``intake_ui_testkit``: with --import-mode=importlib test folders are not packages, and a
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

from intake_ui.app import create_app
from intake_ui.intake_api import IntakeApiClient
from intake_ui.settings import IntakeUiSettings


def _load_testkit() -> None:
    if "intake_ui_testkit" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "intake_ui_testkit", Path(__file__).with_name("testkit.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["intake_ui_testkit"] = module
    spec.loader.exec_module(module)


_load_testkit()
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
