"""The `make bench` scenario against a deployed environment (`load-test.yml`):
submissions to intake-api at the host Locust is given, plus status lookups.

    uvx --from locust locust -f bench/locustfile.py --headless --host https://api.staging.example \\
        --users 100 --spawn-rate 10 --run-time 5m

Each submission carries a fresh Idempotency-Key and a contact address at example.com, so the
sales team's filters can drop load-test mail.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, task

BODY: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "docs" / "examples" / "submission.json").read_text()
)
BODY["company"]["contact"]["email"] = "load-test@example.com"


class Client(FastHttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.submitted: list[str] = []

    @task(3)
    def submit(self) -> None:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
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
        self.client.post("/v1/status-lookup", json=body, name="/v1/status-lookup")
