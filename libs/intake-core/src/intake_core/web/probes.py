"""The bodies of the probes every API serves: ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    """The process is alive (the answer touches no dependency)."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Each dependency checked, by name. ``degraded``: the service works without one that is
    failing (intake-api takes submissions while the bus is down: their events wait in the
    outbox, and the emails with them, until it is back)."""

    status: Literal["ready", "degraded"] = "ready"
    checks: dict[str, Literal["ok", "failing"]]
