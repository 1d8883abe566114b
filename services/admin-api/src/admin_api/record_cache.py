"""Staff reads of one record, answered from the read cache for a short while.

Each record has a generation token of its own (:mod:`admin_api.answer_cache` says why a copy
raced by a change is never served); a change to the record drops both its token and its copy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import TypeAdapter

from admin_api.answer_cache import AnswerCache, CachedAnswer
from intake_core.domain.models import ErasedSubmission, Submission
from intake_core.erasure import cached_record_keys
from intake_core.ports.cache import ReadCache
from intake_core.ports.staff import StoredRecord

_RECORD_JSON: TypeAdapter[Submission | ErasedSubmission] = TypeAdapter(
    Submission | ErasedSubmission
)


def record_answer(stored: StoredRecord) -> CachedAnswer:
    """A record as ``GET /v1/submissions/{clientId}`` sends it: its JSON and its version."""
    return CachedAnswer(stored.version, _RECORD_JSON.dump_json(stored.record, by_alias=True))


class RecordCache:
    def __init__(self, cache: ReadCache, ttl_seconds: float) -> None:
        self._answers = AnswerCache(cache, ttl_seconds)

    async def read(
        self, client_id: str, load: Callable[[str], Awaitable[StoredRecord | None]]
    ) -> CachedAnswer | None:
        """The cached answer, or ``load``'s (then cached). A cache that fails is skipped."""

        async def load_answer() -> CachedAnswer | None:
            stored = await load(client_id)
            return None if stored is None else record_answer(stored)

        generation_key, record_key = cached_record_keys(client_id)
        return await self._answers.read(generation_key, record_key, load_answer)

    async def forget(self, client_id: str) -> None:
        """Call right after the store committed a change. Raises :class:`CacheUnavailable`
        when the copy may have survived (it then lives until its TTL at most)."""
        await self._answers.forget(*cached_record_keys(client_id))
