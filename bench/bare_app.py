"""The framework's limit on this machine: the same body, validated by the same model, no I/O.

``uvicorn bench.bare_app:app`` answers what intake-api answers, without store, outbox or audit,
so the benchmark can report intake-api's throughput as a fraction of this ceiling.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from intake_core.domain.client_id import new_client_id
from intake_core.domain.models import SubmissionCreate

app = FastAPI(title="bare")


@app.post("/v1/submissions", status_code=201)
async def submit(body: SubmissionCreate) -> dict[str, str]:
    return {
        "clientId": new_client_id(),
        "submittedAt": datetime.now(UTC).isoformat(),
        "status": "received",
    }
