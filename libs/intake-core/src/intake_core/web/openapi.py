"""The published OpenAPI document: every problem answer a route can give, under its real type.

Routes declare their problem answers with :func:`problem_answer`; FastAPI files every response
model under ``application/json``, and :func:`install_openapi` moves error answers to
``application/problem+json``, which a schema checker (schemathesis) compares them with.
"""

from __future__ import annotations

from typing import Any, Protocol

from intake_core.web.problems import PROBLEM_JSON, Problem


class OpenApiApp(Protocol):
    """What of a FastAPI app this module uses (intake-core does not depend on FastAPI)."""

    openapi_schema: dict[str, Any] | None

    def openapi(self) -> dict[str, Any]: ...


def problem_answer(description: str, model: type[Problem] = Problem) -> dict[str, Any]:
    """One entry of a route's ``responses``: a problem document and when it is answered."""
    return {"model": model, "description": description}


def problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document with every error body under ``application/problem+json``."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return document


def install_openapi(app: OpenApiApp) -> None:
    """The app's own document (built once, on the first request for it), error bodies moved."""
    build_document = app.openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_media_types(build_document())
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
