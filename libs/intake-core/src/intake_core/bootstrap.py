"""The composition root for adapters: settings in, opened adapters out.

Services call these from their lifespan; tests pass adapters in directly instead.
"""

from __future__ import annotations

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import DevIssuer, TokenVerifier
from intake_core.ports import EventConsumer, EventPublisher
from intake_core.settings import AuthSettings, CommonSettings


async def open_store(settings: CommonSettings) -> SqliteSubmissionStore:
    store = SqliteSubmissionStore(settings.sqlite_path)
    await store.open()
    return store


async def open_queue(settings: CommonSettings) -> LocalQueue:
    queue = LocalQueue(settings.queue_path)
    await queue.open()
    return queue


def _service_bus(settings: CommonSettings) -> ServiceBusQueue:
    """Connects lazily: a bus that is down must not stop a service from starting."""
    if settings.servicebus_connection_string is not None:
        return ServiceBusQueue.from_connection_string(
            settings.servicebus_connection_string.get_secret_value(), settings.servicebus_queue
        )
    assert settings.servicebus_namespace, "checked by CommonSettings"
    return ServiceBusQueue.from_namespace(settings.servicebus_namespace, settings.servicebus_queue)


async def open_publisher(settings: CommonSettings) -> EventPublisher:
    """The relay's end of the bus chosen by ``BUS``."""
    if settings.bus == "servicebus":
        return _service_bus(settings)
    return await open_queue(settings)


async def open_consumer(settings: CommonSettings) -> EventConsumer:
    """The notifier's end of the bus chosen by ``BUS``."""
    if settings.bus == "servicebus":
        return _service_bus(settings)
    return await open_queue(settings)


def token_verifier(settings: AuthSettings) -> TokenVerifier:
    if settings.uses_dev_issuer:
        return TokenVerifier(
            settings.auth_issuer, settings.auth_audience, dev_issuer=DevIssuer(settings.data_dir)
        )
    return TokenVerifier(
        settings.auth_issuer, settings.auth_audience, jwks_url=settings.auth_jwks_url
    )
