"""Entry point for uvicorn: ``uvicorn admin_api.main:app_from_environment --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from admin_api.app import create_app
from admin_api.settings import AdminApiSettings
from intake_core.startup import freeze_startup_objects
from intake_core.telemetry import configure_observability


def app_from_environment() -> FastAPI:
    settings = AdminApiSettings()
    configure_observability("admin-api", settings)
    app = create_app(settings)
    freeze_startup_objects()
    return app
