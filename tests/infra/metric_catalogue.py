"""Which metrics exist, and which metrics a PromQL expression reads.

The metrics that exist are those the services' own registries expose (instantiated, not parsed
from source), the chart's recording rules and Prometheus's own ``up``, so a renamed metric breaks
the rules and the dashboard in a test rather than in production.
"""

from __future__ import annotations

import re
from typing import Any

from admin_api.metrics import AdminMetrics
from intake_api.metrics import ApiMetrics
from intake_notify.metrics import WorkerMetrics
from intake_ui.metrics import UiMetrics

# What Prometheus itself writes for every target it scrapes: 1 when the scrape worked, else 0.
SCRAPE_SERIES = frozenset({"up"})
# The series names a metric family is exposed as, by its type.
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACED = re.compile(r"\{[^{}]*\}")
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_OFFSET = re.compile(r"\boffset\s+-?[0-9a-z]+", re.IGNORECASE)
_IDENTIFIER = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "inf", "nan"})
_LABEL_VALUES = re.compile(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*\w+\s*\)")


def exposed_metrics() -> set[str]:
    """Every series name the four processes expose on /metrics."""
    names: set[str] = set()
    registries = (
        ApiMetrics().registry,
        AdminMetrics().registry,
        WorkerMetrics().registry,
        UiMetrics().registry,
    )
    for registry in registries:
        for family in registry.collect():
            names |= {family.name + suffix for suffix in _SUFFIXES[family.type]}
    return names


def recorded_metrics(groups: list[dict[str, Any]]) -> set[str]:
    return {r["record"] for g in groups for r in g["rules"] if "record" in r}


def referenced_metrics(expr: str) -> set[str]:
    """Metric names in a PromQL expression (or a Grafana label_values() query).

    Strips what cannot be a metric name (strings, label matchers, ranges, grouping clauses,
    offsets); what is left, except function calls and keywords, names a metric.
    """
    found = set(_LABEL_VALUES.findall(expr))
    text = _LABEL_VALUES.sub(" ", expr)
    for pattern in (_STRING, _BRACED, _BRACKETED, _GROUPING, _OFFSET):
        text = pattern.sub(" ", text)
    for name, call in _IDENTIFIER.findall(text):
        if not call and name.lower() not in _KEYWORDS:
            found.add(name)
    return found
