"""Entry point for ``uvicorn intake_ui.main:app_from_environment --factory``."""

from __future__ import annotations

from fasthtml import common as fh

from intake_core.startup import freeze_startup_objects
from intake_core.telemetry import configure_observability
from intake_ui.app import create_app
from intake_ui.settings import IntakeUiSettings


def app_from_environment() -> fh.FastHTML:
    settings = IntakeUiSettings()
    configure_observability("intake-ui", settings)
    app = create_app(settings)
    freeze_startup_objects()
    return app
