"""The UI and a fake intake-api, each on a real uvicorn on a free port, and Chromium."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake_ui.app import create_app
from intake_ui.settings import IntakeUiSettings

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
AXE = ROOT / "services" / "intake-ui" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _load_testkit() -> Any:
    if "intake_ui_testkit" not in sys.modules:
        path = ROOT / "tests" / "integration" / "intake_ui" / "testkit.py"
        spec = importlib.util.spec_from_file_location("intake_ui_testkit", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["intake_ui_testkit"] = module
        spec.loader.exec_module(module)
    return sys.modules["intake_ui_testkit"]


testkit = _load_testkit()


@pytest.fixture(scope="module")
def fake_api() -> Any:
    return testkit.FakeIntakeApi()


@pytest.fixture(scope="module")
def ui_url(fake_api: Any) -> Iterator[str]:
    with testkit.ServerThread(fake_api.app()) as api:
        settings = IntakeUiSettings(environment="test", intake_api_url=api.url)
        with testkit.ServerThread(create_app(settings)) as ui:
            yield ui.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    import playwright.sync_api as playwright_api

    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        pytest.fail(f"axe-core missing: run `npm ci` in services/intake-ui ({AXE})")
    return AXE
