"""Entry point for uvicorn: ``uvicorn admin_api.main:app_from_environment --factory``."""

from __future__ import annotations

from fastapi import FastAPI

from admin_api.app import create_app
from admin_api.settings import AdminApiSettings


def app_from_environment() -> FastAPI:
    return create_app(AdminApiSettings())
