"""A token bucket per client, to keep one source from flooding an endpoint.

The buckets live in this process, so the limit is per replica: with N replicas behind the
ingress a client gets up to N times the rate. That is enough to stop a runaway script; a
global limit belongs at the ingress/WAF.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60.0
        self._max_clients = max_clients
        self._clock = clock
        # Least recently seen first, so memory stays bounded under many source addresses.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def acquire(self, client: str) -> float | None:
        """Take a token for ``client``; None when allowed, else seconds until one is free."""
        now = self._clock()
        bucket = self._buckets.pop(client, None) or _Bucket(self._capacity, now)
        bucket.tokens = min(
            self._capacity, bucket.tokens + (now - bucket.updated) * self._refill_per_second
        )
        bucket.updated = now
        self._buckets[client] = bucket
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._refill_per_second


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
