"""How the fuzz runs generate requests: Hypothesis profiles, schemathesis config, steering.

Every run is deterministic: Hypothesis is derandomized and schemathesis has a fixed seed, so CI
fails (or passes) the same way twice. ``FUZZ_PROFILE=fuzz-deep`` runs many more, random
examples, for a hunt on a laptop.

Steering: the published schema cannot state every rule (a country code, an email address, a
Client ID's check symbol), so most generated requests would stop at validation. Hooks and
``reachable`` swap some schema-valid values for other schema-valid values the domain accepts,
so requests also reach the store and stored records. A valid value only ever replaces a valid
one: a case generated as invalid stays invalid, and the checks judge it as such.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

import schemathesis
from fuzz.apps import SEEDED_CLIENT_IDS, SEEDED_EMAIL
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from schemathesis import Case
from schemathesis.specs.openapi.schemas import OpenApiSchema

from intake_core.domain.models import CountryCode, Email, Phone

SEED = 20260301
IDEMPOTENCY_KEY = "Idempotency-Key"

_SLOW_BUT_FINE = [
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.data_too_large,
    # One app per operation, shared by its examples on purpose: the store fills up as it runs.
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "fuzz",
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_BUT_FINE,
)
settings.register_profile(
    "fuzz-deep",
    parent=settings.get_profile("fuzz"),
    max_examples=500,
    derandomize=False,
)
FUZZ_SETTINGS = settings.get_profile(os.environ.get("FUZZ_PROFILE", "fuzz"))


def _config() -> schemathesis.Config:
    """Valid and invalid data alike, through the examples, coverage and fuzzing phases."""
    config: dict[str, Any] = {
        "generation": {"mode": "all"},
        "phases": {"stateful": {"enabled": False}},
    }
    if FUZZ_SETTINGS.derandomize:
        config["seed"] = SEED  # a fixed seed would make a deep run repeat itself too
    return schemathesis.Config.from_dict(config)


def openapi_schema(app: Any) -> OpenApiSchema:
    """The app's published OpenAPI document (what it serves at /openapi.json), with steering.

    Loaded from the document at collection time, so each operation is its own test; the app
    that answers is built per test and passed to every call as ``app=``.
    """
    schema = schemathesis.openapi.from_dict(app.openapi(), config=_config())
    schema.app = app
    schema.hook("flatmap_path_parameters")(_flatmap_path_parameters)
    schema.hook("flatmap_body")(_flatmap_body)
    schema.hook("flatmap_headers")(_flatmap_headers)
    return schema


def _text(min_length: int, max_length: int) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and min_length <= len(value) <= max_length


def _accepted_by(annotation: Any) -> Callable[[Any], bool]:
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def accepts(value: Any) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return accepts


# Field → (the schema allows the value, the domain accepts it, a value both accept).
_FORMATTED: dict[tuple[str, ...], tuple[Callable[[Any], bool], Callable[[Any], bool], str]] = {
    ("company", "address", "country"): (_text(2, 2), _accepted_by(CountryCode), "GB"),
    ("company", "contact", "email"): (_text(3, 254), _accepted_by(Email), SEEDED_EMAIL),
    ("company", "contact", "phone"): (_text(3, 32), _accepted_by(Phone), "+44 20 7946 0958"),
}


def realistic_submission(body: dict[str, Any]) -> dict[str, Any]:
    """The body with each schema-valid, domain-refused formatted value made acceptable."""
    realistic = copy.deepcopy(body)
    for path, (schema_allows, domain_accepts, accepted) in _FORMATTED.items():
        parent: Any = realistic
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        value = parent.get(path[-1])
        if schema_allows(value) and not domain_accepts(value):
            parent[path[-1]] = accepted
    return realistic


def usable_idempotency_key(key: str) -> bool:
    """What intake-api accepts: 1-255 printable ASCII characters, not all blank."""
    return 0 < len(key) <= 255 and key.strip() != "" and all(" " <= c <= "~" for c in key)


def _schema_valid_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 64


def _flatmap_path_parameters(_: Any, path_parameters: Any) -> Any:
    """Sometimes a stored Client ID instead of a generated one."""
    if not isinstance(path_parameters, dict) or not _schema_valid_id(
        path_parameters.get("clientId")
    ):
        return st.just(path_parameters)
    stored = [{**path_parameters, "clientId": client_id} for client_id in SEEDED_CLIENT_IDS]
    return st.sampled_from([path_parameters, *stored])


def _flatmap_body(context: Any, body: Any) -> Any:
    """Sometimes a submission the domain accepts, or a lookup of a stored record."""
    path = context.operation.path if context.operation is not None else None
    if not isinstance(body, dict):
        return st.just(body)
    if path == "/v1/submissions":
        return st.sampled_from([body, realistic_submission(body)])
    plain_lookup = (
        path == "/v1/status-lookup"
        and set(body) == {"clientId", "email"}
        and _schema_valid_id(body["clientId"])
        and _text(0, 320)(body["email"])
    )
    if plain_lookup:
        return st.sampled_from([body, {"clientId": SEEDED_CLIENT_IDS[0], "email": SEEDED_EMAIL}])
    return st.just(body)


def _flatmap_headers(_: Any, headers: Any) -> Any:
    """Sometimes a fresh Idempotency-Key (the schema allows any string; the API does not)."""
    if not isinstance(headers, dict) or not isinstance(headers.get(IDEMPOTENCY_KEY), str):
        return st.just(headers)
    fresh = st.uuids().map(lambda key: {**headers, IDEMPOTENCY_KEY: str(key)})
    return st.one_of(st.just(headers), fresh)


def reachable(case: Case) -> Case:
    """Coverage cases (fixed, no hooks) hold every field but the one under test at a minimal
    value: "00" as a country, "000" as an email, an empty Idempotency-Key. The API refuses
    those before the field under test matters, so they are made acceptable here."""
    if case.meta is None or case.meta.phase.name != "coverage":
        return case
    if case.operation.path == "/v1/submissions" and isinstance(case.body, dict):
        case.body = realistic_submission(case.body)
    key = case.headers.get(IDEMPOTENCY_KEY) if case.headers else None
    if isinstance(key, str) and not usable_idempotency_key(key):
        # One key per body: a repeat is a replay, never a conflict.
        digest = hashlib.sha256(json.dumps(case.body, sort_keys=True, default=str).encode())
        case.headers[IDEMPOTENCY_KEY] = f"fuzz-{digest.hexdigest()[:32]}"
    return case
