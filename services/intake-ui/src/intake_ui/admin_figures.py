"""Dashboard figures: submissions per day (stacked by status) and per service type, as SVG.

admin-api counts (``GET /v1/figures``, every day of the window listed); this module only draws.
The charts are plain SVG elements built on the server: no charting library, no script, no
style attributes (the CSP forbids them). Colours come from CSS classes in ``app.css``; bar
sizes are SVG geometry attributes. Each chart has a table of the same numbers for screen
readers and for anyone who prefers figures to bars.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fasthtml import common as fh
from fasthtml import svg

from intake_core.domain.models import Status
from intake_ui.admin_api import DayFigures, Figures
from intake_ui.admin_filters import STAFF_STATUS_LABELS
from intake_ui.fields import SERVICE_TYPE_LABELS

DAYS = 30
# Thirty dates side by side cannot be read on a phone: every seventh day is labelled, counting
# back from the newest, so today always has its date and the rest fall on the same weekday.
LABEL_EVERY = 7
# Narrow on purpose: the chart is scaled to the page width, and on a 390 px phone these user
# units are about screen pixels, so the 12 px axis labels stay legible there.
_WIDTH, _HEIGHT = 360, 210
_LEFT, _RIGHT, _BOTTOM, _TOP = 28, 16, 26, 12


def _scale_top(highest: int) -> int:
    """A round top for the axis: 4, 8, 10, 20, 50, 100, …"""
    for step in (4, 8, 10, 20, 40, 50, 100, 200, 500, 1000):
        if highest <= step:
            return step
    return highest


def _day(value: date) -> str:
    return f"{value.day} {value:%b}"


def _labelled(index: int, days: int) -> bool:
    return (days - 1 - index) % LABEL_EVERY == 0


def _stack(day: DayFigures, x: float, width: float, plot_height: float, top: int) -> list[Any]:
    """One bar per status with submissions that day, bottom to top in the workflow's order."""
    bars: list[Any] = []
    base: float = _TOP + plot_height
    for status in Status:
        count = day.counts.get(status, 0)
        if not count:
            continue
        height = plot_height * count / top
        base -= height
        bars.append(
            svg.ft_svg(
                "rect",
                svg.Title(f"{_day(day.day)}: {count} {STAFF_STATUS_LABELS[status]}"),
                x=x,
                y=round(base, 1),
                width=width,
                height=round(height, 1),
                cls=f"bar status-{status.value}",
            )
        )
    return bars


def _grid(top: int, plot_height: float) -> list[Any]:
    lines: list[Any] = []
    for fraction in (0, 0.5, 1):
        y = round(_TOP + plot_height * (1 - fraction), 1)
        lines += [
            svg.Line(x1=_LEFT, x2=_WIDTH - _RIGHT, y1=y, y2=y, cls="grid-line"),
            svg.Text(str(round(top * fraction)), x=_LEFT - 6, y=y + 4, cls="axis-label end"),
        ]
    return lines


def daily_chart(figures: Figures) -> Any:
    top = _scale_top(max((day.total for day in figures.days), default=0))
    plot_height = _HEIGHT - _BOTTOM - _TOP
    slot = (_WIDTH - _LEFT - _RIGHT) / max(1, len(figures.days))
    bar_width = round(slot * 0.7, 1)
    parts = _grid(top, plot_height)
    for index, day in enumerate(figures.days):
        x = round(_LEFT + index * slot + slot * 0.15, 1)
        parts += _stack(day, x, bar_width, plot_height, top)
        if _labelled(index, len(figures.days)):
            middle = round(x + bar_width / 2, 1)
            parts.append(svg.Text(_day(day.day), x=middle, y=_HEIGHT - 8, cls="axis-label middle"))
    return fh.Figure(
        svg.Svg(
            svg.Title("Submissions per day, by status"),
            *parts,
            viewBox=f"0 0 {_WIDTH} {_HEIGHT}",
            role="img",
            aria_labelledby="daily-caption",
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
                f"Submissions per day (UTC), by status: {figures.total} in "
                f"{len(figures.days)} days, from {_day(figures.first_day)} "
                f"to {_day(figures.last_day)}.",
                id="daily-caption",
            ),
        ),
        _daily_table(figures),
    )


def _daily_table(figures: Figures) -> Any:
    return fh.Details(
        fh.Summary("Show these figures as a table"),
        fh.Div(
            fh.Table(
                fh.Thead(
                    fh.Tr(
                        fh.Th("Day", scope="col"),
                        *(fh.Th(STAFF_STATUS_LABELS[s], scope="col") for s in Status),
                        fh.Th("Total", scope="col"),
                    )
                ),
                fh.Tbody(
                    *(
                        fh.Tr(
                            fh.Th(_day(day.day), scope="row"),
                            *(fh.Td(str(day.counts.get(s, 0))) for s in Status),
                            fh.Td(str(day.total)),
                        )
                        for day in reversed(figures.days)  # newest first, as in the list
                    )
                ),
                cls="figures-table",
            ),
            cls="table-scroll",
            tabindex="0",
            aria_label="Submissions per day",
        ),
    )


def service_chart(figures: Figures) -> Any:
    requested = [item for item in figures.by_service_type if item.count]
    if not requested:
        return fh.P("No submissions in these days.")
    highest = max(item.count for item in requested)
    return fh.Ul(
        *(
            fh.Li(
                fh.Span(SERVICE_TYPE_LABELS[item.service_type], cls="bar-label"),
                svg.Svg(
                    svg.Rect(
                        x=0,
                        y=0,
                        height=10,
                        width=round(100 * item.count / highest, 1),
                        cls="bar service",
                    ),
                    viewBox="0 0 100 10",
                    preserveAspectRatio="none",
                    aria_hidden="true",
                    focusable="false",
                    cls="bar-track",
                ),
                fh.Span(str(item.count), cls="bar-count"),
            )
            for item in requested
        ),
        cls="bar-list",
        aria_label="Submissions per service type",
    )
