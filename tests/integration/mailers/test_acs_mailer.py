"""AcsMailer through the real azure-communication-email SDK, against a local stand-in for the
ACS Email REST API served by uvicorn (ACS has no emulator): the SDK's own HTTP pipeline, HMAC
signing and long-running-operation polling all run for real."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intake_core.adapters.acs_mailer import AcsMailer, operation_id_for
from intake_core.ports.mail import OutgoingEmail

AN_EMAIL = OutgoingEmail(
    message_id="<event-7@notify.intake>",
    sender="DoNotReply@consultancy.example",
    recipients=("sales@consultancy.example", "cloud@consultancy.example"),
    subject="New client CL-0000-0000-001Y: Contoso",
    text="Plain summary",
    html="<p>summary</p>",
)


@dataclass
class FakeAcs:
    """Accepts sends, deduplicates by Operation-Id as ACS does, answers polls."""

    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    authorizations: list[str] = field(default_factory=list)
    final_status: str = "Succeeded"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/emails:send", self.send, methods=["POST"]),
                Route("/emails/operations/{operation_id}", self.poll, methods=["GET"]),
            ]
        )

    async def send(self, request: Request) -> Response:
        self.requests += 1
        self.authorizations.append(request.headers.get("authorization", ""))
        operation_id = request.headers["operation-id"]
        self.sent.setdefault(operation_id, await request.json())
        location = f"{request.base_url}emails/operations/{operation_id}?api-version=2025-09-01"
        return JSONResponse(
            {"id": operation_id, "status": "Running"},
            status_code=202,
            headers={"Operation-Location": location, "Retry-After": "0"},
        )

    async def poll(self, request: Request) -> Response:
        operation_id = request.path_params["operation_id"]
        return JSONResponse({"id": operation_id, "status": self.final_status})


@pytest.fixture
async def fake_acs() -> AsyncIterator[tuple[FakeAcs, str]]:
    fake = FakeAcs()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app(), port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield fake, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_sends_one_email_with_both_bodies(fake_acs: tuple[FakeAcs, str]) -> None:
    fake, endpoint = fake_acs
    mailer = AcsMailer(endpoint, AzureKeyCredential("a2V5"), poll_interval_seconds=0.01)
    try:
        await mailer.send(AN_EMAIL)
    finally:
        await mailer.close()
    [(operation_id, message)] = fake.sent.items()
    assert operation_id == operation_id_for(AN_EMAIL)
    [authorization] = fake.authorizations
    assert authorization.startswith("HMAC-SHA256 ")  # the access key signs the request
    assert message["senderAddress"] == AN_EMAIL.sender
    assert [r["address"] for r in message["recipients"]["to"]] == list(AN_EMAIL.recipients)
    assert message["content"] == {
        "subject": AN_EMAIL.subject,
        "plainText": AN_EMAIL.text,
        "html": AN_EMAIL.html,
    }


async def test_a_repeat_after_a_crash_is_the_same_operation(fake_acs: tuple[FakeAcs, str]) -> None:
    fake, endpoint = fake_acs
    for _ in range(2):
        mailer = AcsMailer(endpoint, AzureKeyCredential("a2V5"), poll_interval_seconds=0.01)
        try:
            await mailer.send(AN_EMAIL)
        finally:
            await mailer.close()
    assert fake.requests == 2
    assert len(fake.sent) == 1


async def test_a_failed_operation_raises(fake_acs: tuple[FakeAcs, str]) -> None:
    fake, endpoint = fake_acs
    fake.final_status = "Failed"
    mailer = AcsMailer(endpoint, AzureKeyCredential("a2V5"), poll_interval_seconds=0.01)
    try:
        with pytest.raises(HttpResponseError) as raised:
            await mailer.send(AN_EMAIL)
    finally:
        await mailer.close()
    # The operation's own answer failed the send (a poll answered 200 with "Failed"), not an
    # error in the fake or the transport.
    assert raised.value.status_code == 200
    assert raised.value.response is not None
    assert raised.value.response.json()["status"] == "Failed"
    assert fake.requests == 1
