"""Submit over HTTP to the real processes, wait for the email, read the record back as staff."""

from __future__ import annotations

import email
import time
from email import policy
from typing import Any

import httpx
import pytest

from intake_core.auth import DevIssuer

pytestmark = pytest.mark.e2e


def wait_for_mail(platform, count: int, within: float = 20.0) -> list[Any]:
    deadline = time.monotonic() + within
    while True:
        paths = sorted((platform.local_data() / "mail").glob("*.eml"))
        if len(paths) >= count or time.monotonic() > deadline:
            return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]
        time.sleep(0.1)


def test_submission_reaches_the_sales_team_and_the_admin_api(platform, submission_body) -> None:
    created = httpx.post(f"{platform.intake_api}/v1/submissions", json=submission_body, timeout=10)
    assert created.status_code == 201, created.text
    client_id = created.json()["clientId"]
    assert created.json()["status"] == "received"

    [message] = wait_for_mail(platform, 1)
    assert client_id in message["Subject"]

    token = DevIssuer(platform.local_data()).issue("e2e@example.com", ["Submissions.Read"])
    staff = {"Authorization": f"Bearer {token}"}
    found = httpx.get(
        f"{platform.admin_api}/v1/submissions", params={"q": "contoso"}, headers=staff, timeout=10
    )
    assert found.status_code == 200, found.text
    assert client_id in [item["clientId"] for item in found.json()["items"]]
    record = httpx.get(
        f"{platform.admin_api}/v1/submissions/{client_id}", headers=staff, timeout=10
    )
    assert record.status_code == 200
    assert record.json()["company"]["contact"]["email"] == "ada@example.com"

    assert httpx.get(f"{platform.admin_api}/v1/submissions", timeout=10).status_code == 401


def test_every_service_is_healthy_and_the_form_is_served(platform) -> None:
    for base in (platform.ui, platform.intake_api, platform.admin_api):
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200, base
    page = httpx.get(platform.ui + "/", timeout=5)
    assert page.status_code == 200
    assert "<label" in page.text
