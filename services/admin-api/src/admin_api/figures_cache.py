"""The dashboard figures, answered from the read cache for ``ADMIN_FIGURES_CACHE_SECONDS``.

Staff open the figures page often and the answer counts every record of up to a year, so a copy
saves the store a range scan (SQLite) or a cross-partition query (Cosmos DB). One generation
token covers every copy (one per window of days): a status change or an erasure in admin-api
drops it right after the store commits, and so does the retention job, so what staff change
shows at once.

New submissions are the exception: they arrive through intake-api, which has no access to this
cache. The figures can therefore lag new submissions by the TTL at most; that is the point of
keeping it short.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

from admin_api.answer_cache import AnswerCache, CachedAnswer
from intake_core.erasure import CACHED_FIGURES_GENERATION_KEY
from intake_core.ports.cache import CacheUnavailable, ReadCache

logger = logging.getLogger(__name__)

KEY_PREFIX = "admin:v1:figures:"


def figures_key(first_day: date, last_day: date) -> str:
    """One copy per window: the last day is in the key, so a new day starts a new copy."""
    return f"{KEY_PREFIX}{first_day.isoformat()}:{last_day.isoformat()}"


class FiguresCache:
    def __init__(self, cache: ReadCache, ttl_seconds: float) -> None:
        self._answers = AnswerCache(cache, ttl_seconds)

    async def read(
        self, first_day: date, last_day: date, load: Callable[[], Awaitable[CachedAnswer]]
    ) -> CachedAnswer:
        """The cached figures of these days, or ``load``'s (then cached)."""
        answer = await self._answers.read(
            CACHED_FIGURES_GENERATION_KEY, figures_key(first_day, last_day), load
        )
        assert answer is not None, "load always answers"
        return answer

    async def forget(self) -> None:
        """Call right after the store committed a change. Never raises: the figures hold no
        personal data, so a copy the cache could not drop may live out its short TTL."""
        try:
            await self._answers.forget(CACHED_FIGURES_GENERATION_KEY)
        except CacheUnavailable as error:
            logger.warning("record changed, cached figures not dropped: %s", error)
