"""Entry point for ``uvicorn intake_api.main:app_from_environment --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from intake_api.app import create_app
from intake_api.settings import IntakeApiSettings
from intake_core.startup import freeze_startup_objects
from intake_core.telemetry import configure_observability


def app_from_environment() -> FastAPI:
    settings = IntakeApiSettings()
    configure_observability("intake-api", settings)
    app = create_app(settings)
    freeze_startup_objects()
    return app
