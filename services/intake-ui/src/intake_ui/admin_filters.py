"""The dashboard's search and filters: read from a form or the query string, checked, passed
to admin-api.

Field names are admin-api's query parameters (``q``, ``serviceType``, ``submittedFrom`` …), so
what the staff member chose goes through unchanged and the CSV export gets the same filters.
The search text (``q``) is a name, an email address or a company name more often than not: it
travels in POST bodies only, never in a URL the browser requests (``address_filters``), since
browser history, edge and ingress logs and traces keep URLs where no erasure reaches them.
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
TEXT = "q"
FILTER_NAMES = (TEXT, *_CHOICES, *_DATES)
PAGE_PARAM = "continuationToken"


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
    def text(self) -> str:
        """The search text, tidied; empty when none was given."""
        return self.filters.get(TEXT, "")

    @property
    def address_filters(self) -> dict[str, str]:
        """The filters that may go into a URL (a bookmark, a link, the address bar): all but
        the search text."""
        return without_text(self.filters)

    @property
    def is_filtered(self) -> bool:
        return bool(self.filters)

    def page(self, limit: int) -> dict[str, str]:
        params = {**self.filters, "limit": str(limit)}
        if self.continuation_token:
            params[PAGE_PARAM] = self.continuation_token
        return params


def without_text(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` without the search text, to put into a URL."""
    return {name: value for name, value in params.items() if name != TEXT}


def _given(params: Mapping[str, object], name: str) -> str:
    """A text field's value; anything else sent under its name (a file) counts as empty."""
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def read_query(params: Mapping[str, object]) -> DashboardQuery:
    """The filters from a query string or a form body (the search text comes in a body only:
    the routes make sure of that)."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    q = " ".join(_given(params, TEXT).split())
    if len(q) > MAX_QUERY_TEXT:
        errors[TEXT] = f"Search for at most {MAX_QUERY_TEXT} characters."
        q = q[:MAX_QUERY_TEXT]
    values[TEXT] = q
    for name, choices in _CHOICES.items():
        value = _given(params, name).strip()
        if value and value not in {choice.value for choice in choices}:
            errors[name] = "Choose one of the listed options."
            value = ""
        values[name] = value
    for name in _DATES:
        value = _given(params, name).strip()[:32]
        values[name] = value
        if value and _date(value) is None:
            errors[name] = "Enter a date like 2026-01-31."
    start, end = _date(values["submittedFrom"]), _date(values["submittedTo"])
    if start and end and start > end:
        errors["submittedTo"] = "The end date must not be before the start date."
    token = _given(params, PAGE_PARAM).strip()
    if len(token) > MAX_TOKEN_LENGTH:
        token = ""
    return DashboardQuery(values, errors, token or None)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None
