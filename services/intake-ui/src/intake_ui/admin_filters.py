"""The dashboard's search and filters: read from the query string, checked, passed to admin-api.

Field names are admin-api's query parameters (``q``, ``serviceType``, ``submittedFrom`` …), so
what the staff member chose goes through unchanged and the CSV export gets the same filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from intake_core.domain.models import Industry, ServiceType, Status

MAX_QUERY_TEXT = 200
MAX_TOKEN_LENGTH = 2048

STAFF_STATUS_LABELS = {
    Status.RECEIVED: "Received",
    Status.CONTACTED: "Contacted",
    Status.QUALIFIED: "Qualified",
    Status.WON: "Won",
    Status.LOST: "Lost",
}

_CHOICES: dict[str, type[StrEnum]] = {
    "industry": Industry,
    "serviceType": ServiceType,
    "status": Status,
}
_DATES = ("submittedFrom", "submittedTo")
FILTER_NAMES = ("q", *_CHOICES, *_DATES)


@dataclass(frozen=True)
class DashboardQuery:
    """What the staff member asked for: the filters as typed, their problems, the page."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    continuation_token: str | None = None

    @property
    def filters(self) -> dict[str, str]:
        """The filters that are set, as admin-api query parameters."""
        return {name: value for name, value in self.values.items() if value}

    @property
    def is_filtered(self) -> bool:
        return bool(self.filters)

    def page(self, limit: int) -> dict[str, str]:
        params = {**self.filters, "limit": str(limit)}
        if self.continuation_token:
            params["continuationToken"] = self.continuation_token
        return params


def read_query(params: Mapping[str, str]) -> DashboardQuery:
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    q = " ".join(str(params.get("q", "")).split())
    if len(q) > MAX_QUERY_TEXT:
        errors["q"] = f"Search for at most {MAX_QUERY_TEXT} characters."
        q = q[:MAX_QUERY_TEXT]
    values["q"] = q
    for name, choices in _CHOICES.items():
        value = str(params.get(name, "")).strip()
        if value and value not in {choice.value for choice in choices}:
            errors[name] = "Choose one of the listed options."
            value = ""
        values[name] = value
    for name in _DATES:
        value = str(params.get(name, "")).strip()[:32]
        values[name] = value
        if value and _date(value) is None:
            errors[name] = "Enter a date like 2026-01-31."
    start, end = _date(values["submittedFrom"]), _date(values["submittedTo"])
    if start and end and start > end:
        errors["submittedTo"] = "The end date must not be before the start date."
    token = str(params.get("continuationToken", "")).strip()
    if len(token) > MAX_TOKEN_LENGTH:
        token = ""
    return DashboardQuery(values, errors, token or None)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None
