"""The published OpenAPI document, with error bodies under their real media type.

FastAPI files every response model under ``application/json``; error answers are
``application/problem+json``, and a schema checker (schemathesis) compares the two.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from intake_core.web import problem_media_types


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = problem_media_types(document)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
