"""The composition root for adapters: settings in, opened adapters out.

Services call these from their lifespan; tests pass adapters in directly instead.
"""

from __future__ import annotations

from azure.core.credentials import AzureKeyCredential
from azure.identity.aio import DefaultAzureCredential

from intake_core.adapters.acs_mailer import AcsMailer
from intake_core.adapters.cosmos_store import CosmosSubmissionStore
from intake_core.adapters.file_mailer import FileMailer
from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.memory_cache import MemoryReadCache, NoReadCache
from intake_core.adapters.redis_cache import RedisReadCache
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.adapters.smtp_mailer import SmtpMailer
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import DevIssuer, TokenVerifier
from intake_core.ports.cache import ReadCache
from intake_core.ports.mail import Mailer
from intake_core.ports.queue import DeadLetterQueue, EventConsumer, EventPublisher
from intake_core.ports.store import SubmissionStore
from intake_core.settings import (
    AuthSettings,
    CommonSettings,
    MailerSettings,
    ReadCacheSettings,
)


async def open_store(settings: CommonSettings) -> SubmissionStore:
    """The store chosen by ``STORE``, opened."""
    store: SqliteSubmissionStore | CosmosSubmissionStore
    if settings.store == "cosmos":
        assert settings.cosmos_endpoint, "checked by CommonSettings"
        key = settings.cosmos_key.get_secret_value() if settings.cosmos_key else None
        # With a key it is an emulator: create the database and containers it lacks. In Azure
        # they come from Bicep, and the data-plane role could not create them anyway.
        store = CosmosSubmissionStore(
            settings.cosmos_endpoint, settings.cosmos_database, key=key, provision=key is not None
        )
    else:
        store = SqliteSubmissionStore(settings.sqlite_path, settings.sqlite_busy_timeout_seconds)
    await store.open()
    return store


async def open_queue(settings: CommonSettings) -> LocalQueue:
    queue = LocalQueue(
        settings.queue_path,
        lock_seconds=settings.queue_lock_seconds,
        max_delivery_count=settings.queue_max_deliveries,
        busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
    )
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


async def open_dead_letter_queue(settings: CommonSettings) -> DeadLetterQueue:
    """The dead-letter queue of the bus chosen by ``BUS`` (operators, the retention job)."""
    if settings.bus == "servicebus":
        return _service_bus(settings)
    return await open_queue(settings)


async def open_cache(settings: ReadCacheSettings) -> ReadCache:
    """The read cache chosen by ``CACHE``. Redis connects on first use, so a cache that is
    down slows nothing at start-up; reads then go to the store."""
    if settings.cache == "redis":
        assert settings.redis_url is not None, "checked by ReadCacheSettings"
        return RedisReadCache.from_url(settings.redis_url.get_secret_value())
    if settings.cache == "memory":
        return MemoryReadCache(settings.cache_max_entries)
    return NoReadCache()


def open_mailer(settings: MailerSettings) -> Mailer:
    """The mail service chosen by ``MAILER``, bare: the notifier adds its retries and breaker.
    One that holds connections (ACS) or a thread (file) has ``close``."""
    if settings.mailer == "smtp":
        assert settings.smtp_host is not None, "checked by MailerSettings"
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.mail_timeout_seconds,
        )
    if settings.mailer == "acs":
        assert settings.acs_endpoint is not None, "checked by MailerSettings"
        credential = (
            AzureKeyCredential(settings.acs_key.get_secret_value())
            if settings.acs_key
            else DefaultAzureCredential()
        )
        return AcsMailer(settings.acs_endpoint, credential)
    return FileMailer(settings.mail_dir)


def token_verifier(settings: AuthSettings) -> TokenVerifier:
    if settings.uses_dev_issuer:
        return TokenVerifier(
            settings.auth_issuer, settings.auth_audience, dev_issuer=DevIssuer(settings.data_dir)
        )
    return TokenVerifier(
        settings.auth_issuer, settings.auth_audience, jwks_url=settings.auth_jwks_url
    )
