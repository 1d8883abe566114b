"""The erase form: why (a reason to choose, a note to add) and the Client ID typed to confirm,
read and checked with the domain's own rules; and the words the dashboard uses for each reason
on the form, the tombstone and the audit trail.

The reason and the note go into the erasure's audit entry, which stays after the record is
gone: the form asks for no personal data in the note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from intake_core.domain.client_id import InvalidClientId, normalise_client_id
from intake_core.domain.erasure import NOT_STATED, RETENTION_ENDED, ErasureReason
from intake_core.domain.text import MAX_STAFF_NOTE, StaffNote
from intake_ui.fields import FieldSpec
from intake_ui.validation import MAX_VALUE_LENGTH, friendly_message

# What staff choose from, in their words.
REASON_CHOICES: dict[ErasureReason, str] = {
    ErasureReason.SUBJECT_REQUEST: "The person asked us to erase their data",
    ErasureReason.CONSENT_WITHDRAWN: "The person withdrew their consent",
    ErasureReason.NOT_NEEDED: "We no longer need it: a duplicate, a replaced request or test data",
    ErasureReason.OTHER: "Another reason, which you explain in the note",
}
# What a recorded reason was, as the tombstone ("erased by … on … — <words>") and the audit
# trail say it. The retention job's and an API call's without a reason too.
REASON_WORDS: dict[str, str] = {
    ErasureReason.SUBJECT_REQUEST: "the person asked for erasure",
    ErasureReason.CONSENT_WITHDRAWN: "the person withdrew their consent",
    ErasureReason.NOT_NEEDED: "the data was no longer needed",
    ErasureReason.OTHER: "another reason (see the note)",
    RETENTION_ENDED: "the retention period ended",
    NOT_STATED: "no reason was given",
}

REASON = FieldSpec("reason", "Reason")
NOTE = FieldSpec(
    "note",
    "Note (optional)",
    kind="textarea",
    required=False,
    maxlength=MAX_STAFF_NOTE,
    hint=f"Up to {MAX_STAFF_NOTE} characters; required for another reason. It stays in the "
    "audit trail after the erasure, so write no personal data in it: no names, email "
    "addresses or phone numbers. A ticket number is fine.",
)
CONFIRM = FieldSpec("confirm", "Client ID")
_NOTE = TypeAdapter(StaffNote)


def reason_words(code: str | None) -> str:
    """A recorded reason in words; an erasure from before reasons were recorded gave none."""
    return REASON_WORDS.get(code or NOT_STATED, code or "")


@dataclass(frozen=True)
class ErasureAnswers:
    """What the staff member sent, as typed (to show back), and each field's problem."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    note: str | None = None  # checked and tidied; None when left empty

    @property
    def reason(self) -> str:
        return self.values.get(REASON.name, "")

    def refused(self, fields: tuple[str, ...]) -> ErasureAnswers | None:
        """The answers again, with the fields admin-api refused marked (it checks the same
        rules, so this means the two disagree); None when it named no field of this form."""
        errors = {
            name: "This was not accepted. Check it and send the form again."
            for name in (REASON.name, NOTE.name)
            if name in fields
        }
        return ErasureAnswers(self.values, errors, self.note) if errors else None


def read_erasure(form: Mapping[str, Any], client_id: str) -> ErasureAnswers:
    values = {
        REASON.name: str(form.get(REASON.name) or "")[:64],
        NOTE.name: str(form.get(NOTE.name) or "")[:MAX_VALUE_LENGTH],
        CONFIRM.name: str(form.get(CONFIRM.name) or "")[:64],
    }
    errors: dict[str, str] = {}
    if values[REASON.name] not in {reason.value for reason in ErasureReason}:
        errors[REASON.name] = "Choose why you are erasing this submission."
        values[REASON.name] = ""
    note: str | None = None
    try:
        note = _NOTE.validate_python(values[NOTE.name]) or None
    except ValidationError as error:
        errors[NOTE.name] = friendly_message(NOTE, error.errors()[0])
    if values[REASON.name] == ErasureReason.OTHER and NOTE.name not in errors and note is None:
        errors[NOTE.name] = "Say in the note why you are erasing it."
    if not _is(values[CONFIRM.name], client_id):
        errors[CONFIRM.name] = f"Type {client_id} exactly to confirm the erasure."
    return ErasureAnswers(values, errors, note)


def _is(typed: str, client_id: str) -> bool:
    try:
        return normalise_client_id(typed) == client_id
    except InvalidClientId:
        return False
