"""Dashboard figures: submissions per week (by status) and per service type, drawn as SVG.

The charts are plain SVG elements built on the server: no charting library, no script, no
style attributes (the CSP forbids them). Colours come from CSS classes in ``app.css``; bar
sizes are SVG geometry attributes. Each chart has a table of the same numbers for screen
readers and for anyone who prefers figures to bars.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fasthtml import common as fh
from fasthtml import svg

from intake_core.domain.models import ServiceType, Status
from intake_ui.admin_api import SubmissionRow
from intake_ui.admin_filters import STAFF_STATUS_LABELS
from intake_ui.fields import SERVICE_TYPE_LABELS

WEEKS = 8
_WIDTH, _HEIGHT = 400, 220
_LEFT, _BOTTOM, _TOP = 30, 26, 12


@dataclass(frozen=True)
class Week:
    start: date
    counts: Counter[Status]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Figures:
    weeks: tuple[Week, ...]
    by_service: tuple[tuple[ServiceType, int], ...]
    total: int
    complete: bool


def first_week(today: date, weeks: int = WEEKS) -> date:
    """The Monday that starts the oldest week shown."""
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)


def figures_of(
    rows: Iterable[SubmissionRow], today: date, *, complete: bool, weeks: int = WEEKS
) -> Figures:
    start = first_week(today, weeks)
    per_week = [Week(start + timedelta(weeks=i), Counter()) for i in range(weeks)]
    services: Counter[ServiceType] = Counter()
    total = 0
    for row in rows:
        day = row.submitted_at.astimezone(UTC).date()
        index = (day - start).days // 7
        if 0 <= index < weeks:
            per_week[index].counts[row.status] += 1
            services[row.service_type] += 1
            total += 1
    by_service = tuple(sorted(services.items(), key=lambda item: (-item[1], item[0].value)))
    return Figures(tuple(per_week), by_service, total, complete)


def _scale_top(highest: int) -> int:
    """A round top for the axis: 4, 8, 10, 20, 50, 100, …"""
    for step in (4, 8, 10, 20, 40, 50, 100, 200, 500, 1000):
        if highest <= step:
            return step
    return highest


def _day(value: date) -> str:
    return f"{value.day} {value:%b}"


def weekly_chart(figures: Figures) -> Any:
    top = _scale_top(max((week.total for week in figures.weeks), default=0))
    plot_height = _HEIGHT - _BOTTOM - _TOP
    slot = (_WIDTH - _LEFT) / max(1, len(figures.weeks))
    parts: list[Any] = []
    for fraction in (0, 0.5, 1):
        y = round(_TOP + plot_height * (1 - fraction), 1)
        parts += [
            svg.Line(x1=_LEFT, x2=_WIDTH, y1=y, y2=y, cls="grid-line"),
            svg.Text(str(round(top * fraction)), x=_LEFT - 6, y=y + 4, cls="axis-label end"),
        ]
    for index, week in enumerate(figures.weeks):
        x = round(_LEFT + index * slot + slot * 0.2, 1)
        base: float = _TOP + plot_height
        for status in Status:
            count = week.counts.get(status, 0)
            if not count:
                continue
            height = plot_height * count / top
            base -= height
            parts.append(
                svg.ft_svg(
                    "rect",
                    svg.Title(f"Week of {_day(week.start)}: {count} {STAFF_STATUS_LABELS[status]}"),
                    x=x,
                    y=round(base, 1),
                    width=round(slot * 0.6, 1),
                    height=round(height, 1),
                    cls=f"bar status-{status.value}",
                )
            )
        parts.append(
            svg.Text(
                _day(week.start),
                x=round(x + slot * 0.3, 1),
                y=_HEIGHT - 8,
                cls="axis-label middle",
            )
        )
    return fh.Figure(
        svg.Svg(
            svg.Title("Submissions per week, by status"),
            *parts,
            viewBox=f"0 0 {_WIDTH} {_HEIGHT}",
            role="img",
            aria_labelledby="weekly-caption",
            cls="chart",
        ),
        fh.Figcaption(
            fh.Ul(
                *(
                    fh.Li(fh.Span(cls=f"swatch status-{status.value}"), STAFF_STATUS_LABELS[status])
                    for status in Status
                ),
                cls="legend",
            ),
            fh.Span(
                f"Submissions per week (weeks start on Monday), by status: {figures.total} in "
                f"{len(figures.weeks)} weeks.",
                id="weekly-caption",
            ),
        ),
        _weekly_table(figures),
    )


def _weekly_table(figures: Figures) -> Any:
    return fh.Details(
        fh.Summary("Show these figures as a table"),
        fh.Div(
            fh.Table(
                fh.Thead(
                    fh.Tr(
                        fh.Th("Week of", scope="col"),
                        *(fh.Th(STAFF_STATUS_LABELS[s], scope="col") for s in Status),
                        fh.Th("Total", scope="col"),
                    )
                ),
                fh.Tbody(
                    *(
                        fh.Tr(
                            fh.Th(_day(week.start), scope="row"),
                            *(fh.Td(str(week.counts.get(s, 0))) for s in Status),
                            fh.Td(str(week.total)),
                        )
                        for week in figures.weeks
                    )
                ),
                cls="figures-table",
            ),
            cls="table-scroll",
            tabindex="0",
            aria_label="Submissions per week",
        ),
    )


def service_chart(figures: Figures) -> Any:
    if not figures.by_service:
        return fh.P("No submissions in these weeks.")
    highest = max(count for _, count in figures.by_service)
    return fh.Ul(
        *(
            fh.Li(
                fh.Span(SERVICE_TYPE_LABELS[service], cls="bar-label"),
                svg.Svg(
                    svg.Rect(
                        x=0,
                        y=0,
                        height=10,
                        width=round(100 * count / highest, 1),
                        cls="bar service",
                    ),
                    viewBox="0 0 100 10",
                    preserveAspectRatio="none",
                    aria_hidden="true",
                    focusable="false",
                    cls="bar-track",
                ),
                fh.Span(str(count), cls="bar-count"),
            )
            for service, count in figures.by_service
        ),
        cls="bar-list",
        aria_label="Submissions per service type",
    )


def today_utc() -> date:
    return datetime.now(UTC).date()
