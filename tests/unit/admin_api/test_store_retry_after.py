"""A store outage's 503 asks to retry when the store's breaker lets a trial through.

The outage is a stand-in (``search_hits`` replaced to raise ``StoreUnavailable``): no real fault
makes an embedded-store read fail on demand, since WAL readers are not blocked by a writer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from admin_api.settings import AdminApiSettings
from intake_core.ports.store import StoreUnavailable


@pytest.fixture
def settings(tmp_path: Path) -> AdminApiSettings:
    # A cool-down far from the 5 seconds said while the breaker is closed.
    return AdminApiSettings(
        environment="test", INTAKE_DATA_DIR=tmp_path, store_breaker_reset_seconds=60
    )


def test_retry_after_is_the_breakers_cool_down_left(harness, monkeypatch):
    async def down(*_: object) -> None:
        raise StoreUnavailable("locked")

    monkeypatch.setattr(harness.store, "search_hits", down)
    headers = harness.auth("Submissions.Read")
    first = harness.client.get("/v1/submissions", headers=headers)
    assert first.status_code == 503 and first.headers["retry-after"] == "5"  # still closed
    for _ in range(4):  # STORE_BREAKER_FAILURES in all
        harness.client.get("/v1/submissions", headers=headers)
    refused = harness.client.get("/v1/submissions", headers=headers)
    assert refused.status_code == 503
    assert 55 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["title"] == "Service Unavailable"
