"""A client checks on their request with the Client ID and the email they gave.

The answer is the status or nothing: a malformed ID, an unknown ID, a wrong email and an
erased record all look the same to the caller, so the endpoint cannot be used to find
which Client IDs exist.
"""

from __future__ import annotations

import contextlib
import hmac

from email_validator import EmailNotValidError, validate_email

from intake_core.domain.client_id import InvalidClientId, normalise_client_id
from intake_core.domain.models import Status
from intake_core.ports.intake import ClientSubmissionStore


def _comparable_email(text: str) -> str:
    with contextlib.suppress(EmailNotValidError):
        text = validate_email(text.strip(), check_deliverability=False).normalized
    return text.strip().casefold()


def same_email(given: str, on_record: str) -> bool:
    return hmac.compare_digest(
        _comparable_email(given).encode("utf-8", "surrogatepass"),
        _comparable_email(on_record).encode("utf-8", "surrogatepass"),
    )


async def look_up_status(client_id: str, email: str, store: ClientSubmissionStore) -> Status | None:
    try:
        canonical = normalise_client_id(client_id)
    except InvalidClientId:
        return None
    # ``get`` never returns an erased record, so a tombstone answers like an unknown ID.
    submission = await store.get(canonical)
    if submission is None:
        return None
    if not same_email(email, submission.company.contact.email):
        return None
    return submission.status
