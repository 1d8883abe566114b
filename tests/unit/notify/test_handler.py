"""The notify handler on the real SQLite ledger and the real .eml mailer."""

from __future__ import annotations

import email
import json
from email import policy
from email.message import EmailMessage
from pathlib import Path

from intake_core.adapters.file_mailer import FileMailer
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_notify.handler import Handled, Poison, handle_message
from intake_notify.settings import NotifySettings
from support import VALID_BODY, stored_event


def read_mail(folder: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


async def test_one_event_sends_one_email_with_both_parts(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    event = await stored_event(sqlite_store)
    client_id = event.subject
    mailer = FileMailer(notify_settings.mail_dir)

    outcome = await handle_message(
        event.to_json(), store=sqlite_store, mailer=mailer, settings=notify_settings
    )

    assert isinstance(outcome, Handled)
    assert (outcome.event_id, outcome.duplicate, outcome.erased) == (event.id, False, False)
    assert outcome.submitted_at is not None
    [message] = read_mail(notify_settings.mail_dir)
    assert client_id in message["Subject"]
    assert "Contoso Ltd" in message["Subject"]
    assert message["Message-ID"] == f"<{event.id}@notify.intake>"
    assert message["To"] == "sales@consultancy.example"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert client_id in parts["text/plain"]
    # Written out and read back through quoted-printable, the summary still reads as the form did.
    assert "Budget: US$100k to US$250k" in parts["text/plain"].splitlines()
    assert "Phone: +44 20 7946 0958" in parts["text/plain"].splitlines()
    assert f"https://onboarding.example/admin/submissions/{client_id}" in parts["text/html"]


async def test_redelivery_never_sends_a_second_email(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    event = await stored_event(sqlite_store)
    mailer = FileMailer(notify_settings.mail_dir)
    for _ in range(3):
        await handle_message(
            event.to_json(), store=sqlite_store, mailer=mailer, settings=notify_settings
        )
    assert len(read_mail(notify_settings.mail_dir)) == 1
    assert await sqlite_store.was_handled(event.id, "notify.sales-email")


async def test_user_text_is_escaped_in_html_and_kept_out_of_headers(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    body = json.loads(json.dumps(VALID_BODY))
    body["company"]["name"] = "<img src=x onerror=alert(1)> & Co"
    body["engagement"]["scope"] = "<script>steal()</script>"
    event = await stored_event(sqlite_store, body)
    await handle_message(
        event.to_json(),
        store=sqlite_store,
        mailer=FileMailer(notify_settings.mail_dir),
        settings=notify_settings,
    )
    [message] = read_mail(notify_settings.mail_dir)
    html = next(
        p for p in message.iter_parts() if p.get_content_type() == "text/html"
    ).get_content()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html


async def test_an_event_with_line_breaks_in_the_company_name_adds_no_header(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    """The form refuses line breaks, but the notifier takes whatever event the bus holds."""
    event = json.loads((await stored_event(sqlite_store)).to_json())
    event["data"]["companyName"] = "Acme\r\nBcc: evil@example.com\u2028\x85\u202eLtd"

    outcome = await handle_message(
        json.dumps(event),
        store=sqlite_store,
        mailer=FileMailer(notify_settings.mail_dir),
        settings=notify_settings,
    )

    assert isinstance(outcome, Handled)
    [message] = read_mail(notify_settings.mail_dir)
    assert message["Bcc"] is None
    assert message["To"] == "sales@consultancy.example"
    assert message["Subject"].endswith(": AcmeBcc: evil@example.comLtd")
    headers = next(notify_settings.mail_dir.glob("*.eml")).read_bytes().split(b"\n\n")[0]
    assert b"Bcc" not in headers.replace(b"AcmeBcc", b"")


async def test_recipients_follow_the_service_type(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    body = json.loads(json.dumps(VALID_BODY))
    body["engagement"]["serviceType"] = "training"
    event = await stored_event(sqlite_store, body)
    await handle_message(
        event.to_json(),
        store=sqlite_store,
        mailer=FileMailer(notify_settings.mail_dir),
        settings=notify_settings,
    )
    [message] = read_mail(notify_settings.mail_dir)
    assert message["To"] == "sales@consultancy.example, academy@consultancy.example"


async def test_malformed_messages_are_poison_not_retried(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    event = await stored_event(sqlite_store)
    wrong_type = json.loads(event.to_json()) | {"type": "something.else"}
    bad_data = json.loads(event.to_json())
    bad_data["data"]["companySize"] = "lots"
    cases = {
        "MalformedEvent": ["", "{", "[]", "null", '{"id": 1}', "\x00" * 10],
        "UnexpectedEventType": [json.dumps(wrong_type)],
        "MalformedEventData": [json.dumps(bad_data)],
    }
    mailer = FileMailer(notify_settings.mail_dir)
    for reason, bodies in cases.items():
        for body in bodies:
            outcome = await handle_message(
                body, store=sqlite_store, mailer=mailer, settings=notify_settings
            )
            assert isinstance(outcome, Poison) and outcome.reason == reason, body
    assert read_mail(notify_settings.mail_dir) == []


async def test_an_erased_record_is_not_sent_to_the_sales_team(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    from datetime import UTC, datetime

    from intake_core.domain.audit import AuditEntry

    event = await stored_event(sqlite_store)
    await sqlite_store.erase(
        event.subject,
        AuditEntry("submission.erased", "dpo@example.com", datetime.now(UTC), event.subject),
    )
    outcome = await handle_message(
        event.to_json(),
        store=sqlite_store,
        mailer=FileMailer(notify_settings.mail_dir),
        settings=notify_settings,
    )
    assert outcome == Handled(event.id, duplicate=False, erased=True)
    assert read_mail(notify_settings.mail_dir) == []


async def test_the_data_is_read_by_its_wire_names_only_and_unknown_fields_are_ignored(
    sqlite_store: SqliteSubmissionStore, notify_settings: NotifySettings
) -> None:
    """A later publisher may add fields; Python's names for the data are not its wire names."""
    event = await stored_event(sqlite_store)
    document = json.loads(event.to_json())
    snake = {**document, "data": {**document["data"], "client_id": event.subject}}
    del snake["data"]["clientId"]
    mailer = FileMailer(notify_settings.mail_dir)
    outcome = await handle_message(
        json.dumps(snake), store=sqlite_store, mailer=mailer, settings=notify_settings
    )
    assert isinstance(outcome, Poison) and outcome.reason == "MalformedEventData"
    extra = {**document, "data": {**document["data"], "newField": 1}}
    outcome = await handle_message(
        json.dumps(extra), store=sqlite_store, mailer=mailer, settings=notify_settings
    )
    assert outcome == Handled(event.id, duplicate=False, submitted_at=event.time)
    assert len(read_mail(notify_settings.mail_dir)) == 1
