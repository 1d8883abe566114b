"""One handler for the Azure Function and the local worker: event in, one email out.

Delivery is at least once; the effect is exactly once because handled event ids are recorded
in the store's ledger and checked before sending.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from intake_core.domain.events import SUBMISSION_CREATED, CloudEvent, SubmissionCreatedData
from intake_core.ports.ledger import NotifyLedger
from intake_core.ports.mail import Mailer
from intake_core.telemetry import span_from, tracer
from intake_notify.rendering import render
from intake_notify.settings import NotifySettings

HANDLER_NAME = "notify.sales-email"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    """Settle the message: it is done (sent now, or sent before)."""

    event_id: str
    duplicate: bool
    erased: bool = False
    submitted_at: datetime | None = None  # set when an email went out now


@dataclass(frozen=True)
class Poison:
    """The message can never succeed: dead-letter it with this reason."""

    reason: str
    description: str


Outcome = Handled | Poison


async def handle_message(
    body: str | bytes, *, store: NotifyLedger, mailer: Mailer, settings: NotifySettings
) -> Outcome:
    """Raises on transient failures (mailer or store down) so the message is redelivered."""
    try:
        event = CloudEvent.from_json(body)
    except ValidationError as error:
        return Poison("MalformedEvent", f"not a CloudEvent: {error.error_count()} problems")
    if event.type != SUBMISSION_CREATED:
        return Poison("UnexpectedEventType", f"cannot handle type {event.type[:100]!r}")
    try:
        # By the wire names only: Python's snake_case names are not part of the event.
        data = SubmissionCreatedData.model_validate(event.data, by_name=False)
    except ValidationError as error:
        return Poison("MalformedEventData", f"{error.error_count()} invalid fields in data")

    with span_from("notify.handle", event.traceparent, SpanKind.CONSUMER) as span:
        span.set_attribute("messaging.message.id", event.id)
        # Both questions at once: one round trip to the store, not two.
        handled, present = await asyncio.gather(
            store.was_handled(event.id, HANDLER_NAME), store.exists(data.client_id)
        )
        if handled:
            logger.info("event already handled", extra={"event_id": event.id})
            return Handled(event.id, duplicate=True)
        if not present:
            # The record was written with its event, so a missing one was erased meanwhile:
            # its subject asked to be forgotten, and the sales team must not get their data.
            logger.info(
                "record erased before notification; not sending", extra={"event_id": event.id}
            )
            await store.record_handled(event.id, HANDLER_NAME)
            return Handled(event.id, duplicate=False, erased=True)
        email = render(
            event,
            data,
            sender=settings.mail_sender,
            recipients=settings.recipients_for(data.service_type),
            dashboard_url=settings.public_ui_url,
        )
        with tracer().start_as_current_span("mailer.send", kind=SpanKind.CLIENT):
            await mailer.send(email)
        # A crash right here resends once; the repeat carries the same Message-ID.
        first = await store.record_handled(event.id, HANDLER_NAME)
        logger.info(
            "sales team notified", extra={"event_id": event.id, "client_id": data.client_id}
        )
        return Handled(event.id, duplicate=not first, submitted_at=data.submitted_at)
