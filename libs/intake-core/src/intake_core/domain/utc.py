"""Instants and days in UTC, as the platform stores, compares and hashes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC ISO text: sorts as a string and compares like the instant it names
    (both stores keep times this way, and the audit chain hashes them so)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utc_days(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The instants a range of whole UTC days covers: from the start of ``first_day``
    (included) to the start of the day after ``last_day`` (excluded)."""
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)
    return start, end
