"""Prometheus metrics in a registry of this app's own, so several apps in one process (tests)
never share counters. (Each request's id comes from ``intake_core.web.RequestContext``.)"""

from __future__ import annotations

from intake_core.http_metrics import HttpMetrics


def admin_metrics() -> HttpMetrics:
    return HttpMetrics(
        requests_name="admin_api_requests", duration_name="admin_api_request_duration_seconds"
    )
