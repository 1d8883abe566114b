"""The staff dashboard's figures: how many submissions arrived, by day, status and service."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from intake_core.domain.models import ServiceType, Status


@dataclass(frozen=True)
class SubmissionFigures:
    """How many submissions arrived on each UTC day of a range, by the status each has now and
    by service type: what the staff dashboard charts.

    Erased records count. A tombstone is still a request that was received, and it keeps its
    status and service type (no personal data) for exactly these figures; leaving erasures
    out would make past days shrink whenever a subject exercises their rights.

    ``counts`` holds each (day, status, service type) that occurs, never a zero.
    """

    counts: Mapping[tuple[date, Status, ServiceType], int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def per_day(self) -> dict[date, Counter[Status]]:
        days: dict[date, Counter[Status]] = {}
        for (day, status, _), count in self.counts.items():
            days.setdefault(day, Counter())[status] += count
        return days

    def per_service_type(self) -> Counter[ServiceType]:
        services: Counter[ServiceType] = Counter()
        for (_, _, service_type), count in self.counts.items():
            services[service_type] += count
        return services
