"""The load-test gate's scenario (`load-test.yml`): submissions to intake-api plus status lookups.

The gate runs it as a Job inside the staging namespace against the intake-api Service
(`.github/scripts/cluster_jobs.py load-test`): intake-api has no public route, and from one
runner address every request would share one rate-limit bucket.

intake-api limits each client address to RATE_LIMIT_PER_MINUTE (30) requests per minute and
endpoint, per replica, and trusts X-Forwarded-For from whoever may reach it (only intake-ui, and
this Job, by NetworkPolicy). So each simulated user stands for one client: it sends its own
address from RFC 2544's benchmarking range (198.18.0.0/15, never a real client) and keeps under
the limit: a request every 2-3.5 s, three in four of them submissions, so at most 22.5
submissions a minute even if every wait were the shortest and every request hit one replica.
A 429 is then a real failure, not an artefact of the test. Each submission carries a fresh
Idempotency-Key and a contact address at example.com, so the sales team's filters can drop
load-test mail.

    locust -f bench/locustfile.py --headless --host http://onboarding-intake-api:8001 \\
        --users 100 --spawn-rate 10 --run-time 5m
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, task

BODY: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "docs" / "examples" / "submission.json").read_text()
)
BODY["company"]["contact"]["email"] = "load-test@example.com"
SOURCES = ipaddress.ip_network(os.environ.get("LOAD_TEST_SOURCE_RANGE", "198.18.0.0/15"))
_next_user = itertools.count(1)


def source_address(user: int) -> str:
    """The client address of simulated user number `user` (1, 2, ...), inside SOURCES."""
    if user >= SOURCES.num_addresses - 1:
        raise ValueError(f"more simulated users than addresses in {SOURCES}")
    return str(SOURCES.network_address + user)


class Client(FastHttpUser):
    # Three submissions for each lookup, one request every 2-3.5 s: < 30 submissions a minute.
    wait_time = between(2.0, 3.5)

    def on_start(self) -> None:
        self.submitted: list[str] = []
        self.source = {"X-Forwarded-For": source_address(next(_next_user))}

    @task(3)
    def submit(self) -> None:
        headers = {"Idempotency-Key": str(uuid.uuid4()), **self.source}
        with self.client.post(
            "/v1/submissions", json=BODY, headers=headers, catch_response=True
        ) as response:
            if response.status_code == 201:
                self.submitted.append(response.json()["clientId"])
            else:
                response.failure(f"status {response.status_code}")

    @task(1)
    def look_up_status(self) -> None:
        if not self.submitted:
            return
        body = {"clientId": self.submitted[-1], "email": "load-test@example.com"}
        self.client.post(
            "/v1/status-lookup", json=body, headers=self.source, name="/v1/status-lookup"
        )
