"""The mailers' emails: written directly, they are byte for byte what the email package writes
for the same message (its ``email.mime`` classes under ``compat32``); the headers' policy writes
exactly what ``compat32`` writes, only faster; and the fixed boundary cannot be forged by what a
client types."""

from __future__ import annotations

import binascii
import email
import string
from collections.abc import Callable
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32, default
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake_core.adapters.file_mailer import BOUNDARY, MIME_POLICY, eml_bytes, written_as_is
from intake_core.ports.mail import OutgoingEmail

# Correctness, not speed: on a loaded machine an example took longer than Hypothesis's 200 ms.
NO_DEADLINE = settings(deadline=None)

T = TypeVar("T")
DATE = "Thu, 26 Nov 2026 18:47:54 -0000"
NAMES = st.text(string.ascii_letters + "-", min_size=1, max_size=30)
# Short and long, plain and awkward: spaces, tabs, separators, line breaks, non-ASCII.
VALUES = st.text(st.sampled_from([*string.printable, "é", "—", "\u2028"]), max_size=120)


def outcome(write: Callable[[], T]) -> T | type[Exception]:
    try:
        return write()
    except Exception as error:  # compat32 refuses a value that would smuggle in a header
        return type(error)


@NO_DEADLINE
@given(NAMES, VALUES)
def test_any_header_is_written_as_compat32_writes_it(name: str, value: str) -> None:
    assert outcome(lambda: MIME_POLICY.fold(name, value)) == outcome(
        lambda: compat32.fold(name, value)
    )
    assert outcome(lambda: MIME_POLICY.fold_binary(name, value)) == outcome(
        lambda: compat32.fold_binary(name, value)
    )


@NO_DEADLINE
@given(VALUES)
def test_an_encoded_header_is_written_as_compat32_writes_it(value: str) -> None:
    header = Header(value, "utf-8", header_name="Subject")
    assert outcome(lambda: MIME_POLICY.fold_binary("Subject", header)) == outcome(  # type: ignore[arg-type]
        lambda: compat32.fold_binary("Subject", header)  # type: ignore[arg-type]
    )


def built_by_the_email_package(email: OutgoingEmail) -> Message:
    """The reference: the message assembled from the email package's classes."""
    message = MIMEMultipart("alternative", boundary=BOUNDARY)
    message["Message-ID"] = email.message_id
    message["Date"] = DATE
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = (
        email.subject if written_as_is(email.subject) else Header(email.subject, "utf-8")  # type: ignore[assignment]
    )
    for body, subtype in ((email.text, "plain"), (email.html, "html")):
        part = MIMENonMultipart("text", subtype, charset="utf-8")
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(binascii.b2a_qp(body.encode(), istext=True).decode("ascii"))
        message.attach(part)
    return message


@NO_DEADLINE
@given(VALUES, st.lists(st.emails(), min_size=1, max_size=5), VALUES, VALUES)
def test_a_whole_email_is_the_bytes_the_email_package_writes(
    subject: str, recipients: list[str], text: str, html: str
) -> None:
    outgoing = OutgoingEmail(
        message_id="<event-1@notify.intake>",
        sender="onboarding@consultancy.example",
        recipients=tuple(recipients),
        subject=subject,
        text=text,
        html=html,
    )
    assert outcome(lambda: eml_bytes(outgoing, date=DATE)) == outcome(
        lambda: built_by_the_email_package(outgoing).as_bytes(policy=compat32)
    )


@pytest.mark.parametrize(
    "typed",
    [
        "=?utf-8?b?SW52b2ljZSDigK5ncGouZXhlIA0KQmNjOiB4QGV2aWwuZXhhbXBsZQ==?=",
        "=?utf-8?q?Evil=0D=0ABcc:_x@evil.example?=",
        "Acme =?iso-8859-1?q?=E9?= Ltd",
    ],
)
def test_a_subject_that_looks_encoded_reads_as_typed(typed: str) -> None:
    # A mail client decodes encoded words in a Subject: written raw, the first would show a line
    # break, a Bcc: and a right-to-left override the form refuses in a company name.
    written = eml_bytes(
        OutgoingEmail(
            message_id="<event-1@notify.intake>",
            sender="onboarding@consultancy.example",
            recipients=("sales@consultancy.example",),
            subject=f"New client CL-3SE0-PS4B-14AJ: {typed}",
            text="-",
            html="-",
        )
    )
    subject = email.message_from_bytes(written, policy=default)["Subject"]
    assert subject == f"New client CL-3SE0-PS4B-14AJ: {typed}"


# Any text but line breaks other than "\n" (the renderer's, which quoted-printable keeps).
BODY_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85")
    | st.just("\n"),
    max_size=200,
)


@NO_DEADLINE
@given(BODY_TEXT)
def test_a_body_holding_the_boundary_still_parses_as_its_two_parts(text: str) -> None:
    body = f"{text}\n--{BOUNDARY}\n{text}\n--{BOUNDARY}--\n"
    written = eml_bytes(
        OutgoingEmail(
            message_id="<event-1@notify.intake>",
            sender="onboarding@consultancy.example",
            recipients=("sales@consultancy.example",),
            subject="New client",
            text=body,
            html=body,
        )
    )
    message = email.message_from_bytes(written, policy=default)
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert [part.get_content() for part in parts] == [body, body]
