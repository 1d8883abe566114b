"""What the staff use cases work with, in one object: a use case that needs the store, the
caches and the queue takes the context, not each of them in a row of positional arguments.
Built once when the app starts (see :func:`admin_api.app.create_app`)."""

from __future__ import annotations

from dataclasses import dataclass

from admin_api.figures_cache import FiguresCache
from admin_api.paging import PageTokens
from admin_api.record_cache import RecordCache
from intake_core.ports.cache import ReadCache
from intake_core.ports.queue import SubjectQueue
from intake_core.ports.staff import StaffSubmissionStore


@dataclass(frozen=True)
class AdminContext:
    """``store`` is the store behind its circuit breaker. ``cache`` is the read cache (or one
    that keeps nothing): ``records`` and ``figures`` read through it, an erasure drops the
    copies in it. ``queue`` is the embedded event queue, whose waiting messages an erasure
    purges; None with Service Bus. ``page_tokens`` signs a search's continuation tokens."""

    store: StaffSubmissionStore
    cache: ReadCache
    records: RecordCache
    figures: FiguresCache
    page_tokens: PageTokens
    queue: SubjectQueue | None
