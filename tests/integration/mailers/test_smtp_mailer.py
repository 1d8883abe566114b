"""SmtpMailer against a real SMTP server (aiosmtpd) that requires STARTTLS and a login."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from intake_core.adapters.smtp_mailer import SmtpMailer
from intake_core.ports.mail import OutgoingEmail
from support.tls import client_context, self_signed_localhost, server_context

AN_EMAIL = OutgoingEmail(
    message_id="<event-42@notify.intake>",
    sender="onboarding@consultancy.example",
    recipients=("sales@consultancy.example",),
    subject="New client CL-0000-0000-001Y: Contoso",
    text="Plain summary",
    html="<p>&lt;b&gt; escaped</p>",
)


@dataclass
class Sink:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.tls_seen.append(session.ssl is not None)
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Sink, int, Path]]:
    cert, key = self_signed_localhost(tmp_path)
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(cert, key),
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield sink, port, cert
    controller.stop()


async def test_sends_over_starttls_with_login(smtp_server: tuple[Sink, int, Path]) -> None:
    sink, port, cert = smtp_server
    mailer = SmtpMailer(
        "127.0.0.1", port, username="notify", password="s3cret", tls_context=client_context(cert)
    )
    await mailer.send(AN_EMAIL)
    [(sender, recipients, raw)] = sink.messages
    assert sink.tls_seen == [True]
    assert (sender, recipients) == (AN_EMAIL.sender, list(AN_EMAIL.recipients))
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Message-ID"] == AN_EMAIL.message_id
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}


async def test_a_wrong_password_fails_loudly(smtp_server: tuple[Sink, int, Path]) -> None:
    sink, port, cert = smtp_server
    mailer = SmtpMailer(
        "127.0.0.1", port, username="notify", password="wrong", tls_context=client_context(cert)
    )
    with pytest.raises(Exception, match=r"(?i)auth"):
        await mailer.send(AN_EMAIL)
    assert sink.messages == []


async def test_an_untrusted_certificate_is_refused(
    smtp_server: tuple[Sink, int, Path], tmp_path: Path
) -> None:
    sink, port, _ = smtp_server
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    other_cert, _ = self_signed_localhost(other_folder)
    mailer = SmtpMailer(
        "127.0.0.1",
        port,
        username="notify",
        password="s3cret",
        tls_context=client_context(other_cert),
    )
    with pytest.raises(Exception, match=r"(?i)certificate"):
        await mailer.send(AN_EMAIL)
    assert sink.messages == []
