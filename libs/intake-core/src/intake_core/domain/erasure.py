"""Why a record was erased: the reasons staff choose, and the ones the platform records itself.

The reason (and any note) goes into the erasure's audit entry, under ``details``: the tombstone
keeps none, and the trail is what shows who erased a record, when and on what ground.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The actor of the retention job's erasures.
RETENTION_ACTOR = "system:retention"
# The actor of the erasures made again on a store restored to an earlier point.
RESTORE_ACTOR = "system:restore"


class ErasureReason(StrEnum):
    """The ground staff give for an erasure (the legal basis, in plain terms)."""

    SUBJECT_REQUEST = "subject-request"  # the person asked: their right to erasure
    CONSENT_WITHDRAWN = "consent-withdrawn"
    NOT_NEEDED = "not-needed"  # no longer needed: a duplicate, a replaced request, test data
    OTHER = "other"  # said in the note, which is then required


# Recorded by the platform itself, never chosen by staff.
RETENTION_ENDED = "retention"  # the retention job's erasures (its code since it was built)
NOT_STATED = "unstated"  # an erasure asked for without a reason (no body)

# Every reason an erasure's audit entry can hold.
RECORDED_REASONS = frozenset(
    {*(reason.value for reason in ErasureReason), RETENTION_ENDED, NOT_STATED}
)


def erasure_details(reason: str, note: str | None = None) -> dict[str, str]:
    """The erasure's audit details: its ``reason``, and the staff ``note`` when there is one."""
    return {"reason": reason, "note": note} if note else {"reason": reason}


@dataclass(frozen=True)
class RecordedErasure:
    """An erasure as the audit trail records it: which record, when, and on what ground.
    ``reason`` is None for an erasure from before reasons were recorded."""

    client_id: str
    erased_at: datetime
    reason: str | None
