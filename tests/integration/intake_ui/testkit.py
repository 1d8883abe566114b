"""Shared by the UI's integration and e2e tests: a fake intake-api, a uvicorn runner, answers.

The fake is a real, tiny intake-api stand-in (Starlette).

It follows the pinned contract closely enough for the UI: 201 with a Client ID, idempotency
(same key + same body → same ID, different body → 409), 422 problem+json with ``errors[].path``,
status lookup. Tests can script the next answers (503, 429, 422, delays) and read what arrived.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from intake_core.domain.client_id import new_client_id
from intake_core.domain.models import SubmissionCreate


@dataclass
class Scripted:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass
class Arrival:
    path: str
    idempotency_key: str | None
    body: Any
    forwarded_for: str | None = None
    user_agent: str | None = None


@dataclass
class FakeIntakeApi:
    arrivals: list[Arrival] = field(default_factory=list)
    scripted: deque[Scripted] = field(default_factory=deque)
    by_key: dict[str, tuple[str, str]] = field(default_factory=dict)
    records: dict[str, SubmissionCreate] = field(default_factory=dict)

    def script(self, *answers: Scripted) -> None:
        self.scripted.extend(answers)

    def submissions(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.path == "/v1/submissions"]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/submissions", self._submit, methods=["POST"]),
                Route("/v1/status-lookup", self._lookup, methods=["POST"]),
                Route("/healthz", lambda _: JSONResponse({"status": "ok"})),
            ]
        )

    async def _scripted(self) -> Response | None:
        if not self.scripted:
            return None
        answer = self.scripted.popleft()
        if answer.delay_seconds:
            await asyncio.sleep(answer.delay_seconds)
        if answer.status == 0:
            return None  # a delay only, then the normal answer
        return JSONResponse(
            answer.body, status_code=answer.status, headers=answer.headers,
            media_type="application/problem+json" if answer.status >= 400 else None,
        )  # fmt: skip

    async def _submit(self, request: Request) -> Response:
        body = await request.json()
        key = request.headers.get("idempotency-key")
        forwarded = request.headers.get("x-forwarded-for")
        user_agent = request.headers.get("user-agent")
        self.arrivals.append(Arrival("/v1/submissions", key, body, forwarded, user_agent))
        if (scripted := await self._scripted()) is not None:
            return scripted
        try:
            submission = SubmissionCreate.model_validate(body)
        except ValidationError as error:
            errors = [
                {"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in error.errors()
            ]
            return JSONResponse(
                {"type": "about:blank", "title": "Invalid", "status": 422, "errors": errors},
                status_code=422,
                media_type="application/problem+json",
            )
        fingerprint = submission.fingerprint()
        if key and key in self.by_key:
            known_fingerprint, client_id = self.by_key[key]
            if known_fingerprint != fingerprint:
                return JSONResponse({"title": "Conflict", "status": 409}, status_code=409)
            return JSONResponse({"clientId": client_id, "status": "received"}, status_code=200)
        client_id = new_client_id()
        self.records[client_id] = submission
        if key:
            self.by_key[key] = (fingerprint, client_id)
        answer = {
            "clientId": client_id,
            "submittedAt": "2026-01-01T00:00:00Z",
            "status": "received",
        }
        return JSONResponse(answer, status_code=201)

    async def _lookup(self, request: Request) -> Response:
        body = await request.json()
        forwarded = request.headers.get("x-forwarded-for")
        self.arrivals.append(Arrival("/v1/status-lookup", None, body, forwarded))
        if (scripted := await self._scripted()) is not None:
            return scripted
        record = self.records.get(body.get("clientId", ""))
        if record is None or record.company.contact.email != body.get("email"):
            return JSONResponse({"title": "Not Found", "status": 404}, status_code=404)
        return JSONResponse({"status": "received"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerThread:
    """A real uvicorn serving ``app`` on a free local port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


COMPANY = {
    "company.name": "Acme Widgets Ltd",
    "company.industry": "manufacturing",
    "company.size": "120",
    "company.address.line1": "1 High Street",
    "company.address.line2": "",
    "company.address.city": "Leeds",
    "company.address.region": "",
    "company.address.postalCode": "LS1 4AP",
    "company.address.country": "GB",
    "company.contact.name": "Ada Lovelace",
    "company.contact.email": "ada@example.com",
    "company.contact.phone": "020 7946 0958",
}
ENGAGEMENT = {
    "engagement.serviceType": "kubernetes",
    "engagement.scope": "Move our build pipeline to AKS.",
    "engagement.timeline": "1-3-months",
    "engagement.budgetRange": "25k-100k",
    "engagement.notes": "",
    "consent.accepted": "yes",
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def start(client: TestClient) -> str:
    """Open the form; returns the CSRF token the session now holds."""
    response = client.get("/")
    assert response.status_code == 200
    return csrf_of(response.text)


def post(client: TestClient, path: str, data: dict[str, Any], *, htmx: bool = False) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=data, headers=headers)
