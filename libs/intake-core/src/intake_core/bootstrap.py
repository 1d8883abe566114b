"""The composition root for adapters: settings in, opened adapters out.

Services call these from their lifespan; tests pass adapters in directly instead.
"""

from __future__ import annotations

from intake_core.adapters.local_queue import LocalQueue
from intake_core.adapters.sqlite_store import SqliteSubmissionStore
from intake_core.auth import DevIssuer, TokenVerifier
from intake_core.settings import AuthSettings, CommonSettings


async def open_store(settings: CommonSettings) -> SqliteSubmissionStore:
    store = SqliteSubmissionStore(settings.sqlite_path)
    await store.open()
    return store


async def open_queue(settings: CommonSettings) -> LocalQueue:
    queue = LocalQueue(settings.queue_path)
    await queue.open()
    return queue


def token_verifier(settings: AuthSettings) -> TokenVerifier:
    if settings.uses_dev_issuer:
        return TokenVerifier(
            settings.auth_issuer, settings.auth_audience, dev_issuer=DevIssuer(settings.data_dir)
        )
    return TokenVerifier(
        settings.auth_issuer, settings.auth_audience, jwks_url=settings.auth_jwks_url
    )
