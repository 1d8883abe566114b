"""The notifier as an Azure Function (Python v2 model): a Service Bus queue trigger blueprint.

Clients live at module scope, as the Functions host expects, but are created on first use so
importing this module does no I/O. Retries come from the queue's max delivery count: raising
abandons the message, which Service Bus dead-letters after the last delivery.
"""

from __future__ import annotations

import asyncio
import logging

import azure.functions as func

from intake_core.bootstrap import open_store
from intake_core.ports.ledger import NotifyLedger
from intake_core.ports.mail import Mailer
from intake_notify.handler import Poison, handle_message
from intake_notify.mailers import open_sales_team_mailer
from intake_notify.settings import NotifySettings

QUEUE_SETTING = "%SERVICEBUS_QUEUE%"
CONNECTION = "ServiceBusConnection"  # identity-based: ServiceBusConnection__fullyQualifiedNamespace

blueprint = func.Blueprint()
logger = logging.getLogger(__name__)


class _Clients:
    """One store and one mailer per worker process, opened lazily, once: the host runs
    invocations concurrently, and without the lock each first one would open a store of its
    own (and all but one would leak)."""

    opened: tuple[NotifySettings, NotifyLedger, Mailer] | None = None
    _opening = asyncio.Lock()

    @classmethod
    async def get(cls) -> tuple[NotifySettings, NotifyLedger, Mailer]:
        async with cls._opening:
            if cls.opened is None:
                settings = NotifySettings()
                store = await open_store(settings)
                cls.opened = (settings, store, open_sales_team_mailer(settings))
        return cls.opened


class PoisonMessage(Exception):
    """Raised for a message that can never succeed: the host abandons it, and Service Bus
    dead-letters it after the queue's last delivery, as for any other failure."""


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name=QUEUE_SETTING, connection=CONNECTION
)
async def notify_sales_team(message: func.ServiceBusMessage) -> None:
    settings, store, mailer = await _Clients.get()
    outcome = await handle_message(
        message.get_body(), store=store, mailer=mailer, settings=settings
    )
    if isinstance(outcome, Poison):
        # The v2 trigger cannot dead-letter directly; failing lets max delivery count do it.
        logger.error("poison message %s: %s", message.message_id, outcome.reason)
        raise PoisonMessage(f"{outcome.reason}: {outcome.description}")
