"""What callers of the Cosmos DB store see when Cosmos DB fails: :class:`StoreUnavailable`.

The SDK's own retry policy has already run by then (throttling 429s with the server's
``retry-after``, connection errors, region failover), so whatever still fails is an outage to
the caller: it answers 503 and keeps the data. The SDK's message stays in the exception chain
for the logs, never in what callers are told.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import AzureError
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from intake_core.ports.store import StoreUnavailable

logger = logging.getLogger(__name__)

# How often a write that lost an optimistic-concurrency race (an audit chain head, an outbox
# document) is tried again before the store reports itself overloaded.
MAX_ATTEMPTS = 50


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except CosmosBatchOperationError:
        raise  # the caller reads which operation failed, then calls batch_failure() if stuck
    except CosmosHttpResponseError as error:
        logger.warning("Cosmos DB request failed", extra={"status": error.status_code})
        raise StoreUnavailable(f"the submission store answered {error.status_code}") from error
    except (AzureError, OSError, TimeoutError) as error:
        logger.warning("Cosmos DB unreachable", extra={"error": type(error).__name__})
        raise StoreUnavailable("the submission store cannot be reached") from error


def batch_failure(error: CosmosBatchOperationError) -> StoreUnavailable:
    """A batch that failed for a reason the store does not handle: an outage to callers."""
    _, status = failed_operation(error)
    logger.warning("Cosmos DB batch failed", extra={"status": status})
    return StoreUnavailable(f"the submission store answered {status}")


def failed_operation(error: CosmosBatchOperationError) -> tuple[int, int]:
    """The index and status code of the operation that failed a transactional batch."""
    index = error.error_index or 0
    responses = error.operation_responses or []
    if index < len(responses):
        return index, int(responses[index]["statusCode"])
    return index, int(error.status_code or 0)


async def contention_pause(attempt: int) -> None:
    """A short jittered pause before trying again after losing a race."""
    await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))  # noqa: S311 - jitter only
