"""The query string of the list and export routes, checked and turned into a store query."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from intake_core.domain.client_id import is_client_id, normalise_client_id
from intake_core.domain.models import Industry, ServiceType, Status
from intake_core.ports.staff import SearchQuery

MAX_QUERY_TEXT = 200
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}(?![0-9])")


def _iso_8601(value: Any) -> Any:
    """Only an ISO 8601 date or date and time: pydantic would also read a bare number
    ("1700000000", "-1", "0.5") as a Unix time, which no caller of a date filter means."""
    if isinstance(value, int | float | str) and not (
        isinstance(value, str) and _ISO_DATE_START.match(value)
    ):
        raise ValueError("must be an ISO 8601 date (2026-03-01) or date and time")
    return value


def _utc(value: datetime) -> datetime:
    """Naive times are read as UTC; every time is compared in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("is outside the supported range of dates") from None


UtcDatetime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_utc)]


class SubmissionFilters(BaseModel):
    """Which submissions: ``q`` is a case-insensitive substring of company name, contact name,
    contact email or Client ID, or five symbols or more of a Client ID as staff type one read to
    them (hyphens optional, O for 0, I or L for 1: ``client_id_forms``, which the stores apply).
    Dates are ISO 8601; a date alone means the whole day (UTC)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    q: str | None = Field(default=None, max_length=MAX_QUERY_TEXT)
    industry: Industry | None = None
    service_type: ServiceType | None = None
    status: Status | None = None
    submitted_from: UtcDatetime | None = None
    submitted_to: UtcDatetime | None = None

    @field_validator("q")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("submitted_to", mode="before")
    @classmethod
    def _whole_last_day(cls, value: Any) -> Any:
        if isinstance(value, str) and _DATE_ONLY.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.submitted_from and self.submitted_to and self.submitted_from > self.submitted_to:
            raise ValueError("submittedFrom must not be after submittedTo")
        return self

    def search_query(self, limit: int, position: str | None = None) -> SearchQuery:
        return SearchQuery(
            text=self._search_text(),
            industry=self.industry,
            service_type=self.service_type,
            status=self.status,
            submitted_from=self.submitted_from,
            submitted_to=self.submitted_to,
            limit=limit,
            continuation_token=position,
        )

    def _search_text(self) -> str | None:
        # A typed Client ID ("cl-abcd efgh…", I for 1) should find its record.
        if self.q is not None and is_client_id(self.q):
            return normalise_client_id(self.q)
        return self.q

    def key(self) -> str:
        """A canonical form of the filters: continuation tokens are bound to it."""
        fields = self.model_dump(mode="json", include=_FILTERS_BUT_TEXT)
        text = self._search_text()
        fields["q"] = text.casefold() if text else None
        return json.dumps(fields, sort_keys=True)

    def audit_details(self) -> dict[str, str]:
        """The filters for the audit trail, without the search text: it is often a name or an
        email address, and the trail must not keep personal data. A Client ID is kept."""
        dumped = self.model_dump(mode="json", by_alias=True, include=_FILTERS_BUT_TEXT)
        details = {name: str(value) for name, value in dumped.items() if value is not None}
        if self.q is not None:
            details["qLength"] = str(len(self.q))
            if is_client_id(self.q):
                details["qClientId"] = normalise_client_id(self.q)
        return details


_FILTERS_BUT_TEXT = set(SubmissionFilters.model_fields) - {"q"}


class PageRequest(SubmissionFilters):
    """One page of the list: the filters plus where to start and how many."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    continuation_token: str | None = Field(default=None, max_length=2048)

    def audit_details(self) -> dict[str, str]:
        details = super().audit_details()
        details["limit"] = str(self.limit)
        details["page"] = "next" if self.continuation_token else "first"
        return details
