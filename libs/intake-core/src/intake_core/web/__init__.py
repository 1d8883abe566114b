"""The HTTP toolkit the services share, one module per concern:

- :mod:`~intake_core.web.problems`: RFC 9457 problem documents, the 422's field problems;
- :mod:`~intake_core.web.openapi`: problem answers in the published OpenAPI document;
- :mod:`~intake_core.web.middleware`: security headers, the last resort 500, the body limit,
  the request id;
- :mod:`~intake_core.web.probes`: the bodies of ``/healthz`` and ``/readyz``.

Import from here; the modules are split only to keep each short. Nothing here imports FastAPI
(intake-core does not depend on it): services install their handlers with what they know.
"""

from intake_core.web.middleware import (
    API_SECURITY_HEADERS,
    BodyLimit,
    BodyRefusal,
    LastResort,
    RequestContext,
    SecurityHeaders,
    is_json_media_type,
    replaying,
)
from intake_core.web.openapi import install_openapi, problem_answer, problem_media_types
from intake_core.web.probes import Health, Readiness
from intake_core.web.problems import (
    PROBLEM_JSON,
    RETRY_AFTER_SECONDS,
    FieldProblem,
    Location,
    Problem,
    ValidationProblem,
    field_problems,
    friendly_message,
    json_path,
    problem_body_refusal,
    problem_response,
    validation_problem,
)

__all__ = [
    "API_SECURITY_HEADERS",
    "PROBLEM_JSON",
    "RETRY_AFTER_SECONDS",
    "BodyLimit",
    "BodyRefusal",
    "FieldProblem",
    "Health",
    "LastResort",
    "Location",
    "Problem",
    "Readiness",
    "RequestContext",
    "SecurityHeaders",
    "ValidationProblem",
    "field_problems",
    "friendly_message",
    "install_openapi",
    "is_json_media_type",
    "json_path",
    "problem_answer",
    "problem_body_refusal",
    "problem_media_types",
    "problem_response",
    "replaying",
    "validation_problem",
]
