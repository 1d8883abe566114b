"""Text field types that refuse what could break a log line, an email header or a layout.

HTML and spreadsheet formulas are *accepted* here and neutralised where text is output;
control characters are refused because nothing legitimate needs them in a form field.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from intake_core.domain.pii import holds_contact_details
from intake_core.domain.stored import is_stored

# Refused: control characters (Unicode category Cc), the line and paragraph separators (Zl, Zp;
# each holds one character), the bidirectional overrides, which can make text display
# differently from what is stored, and the other invisible characters: the format characters
# (Cf: zero-width space, soft hyphen, byte-order mark, the tag characters that can smuggle text
# past a reader, …) and private-use ones (Co). A name holding one looks like another name and
# escapes search. Kept: the zero-width non-joiner and joiner (U+200C, U+200D), which Persian,
# the Indic scripts and emoji need, and the left-to-right, right-to-left and Arabic letter marks
# (U+200E, U+200F, U+061C), which mixed-direction names use. Spelled out as one character
# class, the check runs in C instead of a Python call per character (a unit test holds it to
# the categories).
_INVISIBLE_CLASS = (
    r"\u00ad\u0600-\u0605\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b\u2060-\u2064\u206a-\u206f"
    r"\ue000-\uf8ff\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    r"\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_SINGLE_LINE_REFUSED = re.compile(
    rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069{_INVISIBLE_CLASS}]"
)
# The same, less the tab and the newline.
_MULTI_LINE_REFUSED = re.compile(
    rf"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069{_INVISIBLE_CLASS}]"
)
_TEXT_DIRECTION = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]")
# Invisible where they are pasted, so "control characters" would leave people looking for one.
TEXT_DIRECTION_REFUSED = "must not contain invisible text-direction characters"
INVISIBLE_REFUSED = "must not contain invisible characters (such as a zero-width space)"


def _refusal(found: str, otherwise: str) -> str:
    if _TEXT_DIRECTION.match(found):
        return TEXT_DIRECTION_REFUSED
    return INVISIBLE_REFUSED if _INVISIBLE.match(found) else otherwise


def _single_line(value: str, info: ValidationInfo) -> str:
    if is_stored(info):
        return value
    value = unicodedata.normalize("NFC", value)
    if found := _SINGLE_LINE_REFUSED.search(value):
        raise ValueError(_refusal(found[0], "must be a single line without control characters"))
    return value


def _multi_line(value: str, info: ValidationInfo) -> str:
    if is_stored(info):
        return value
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if found := _MULTI_LINE_REFUSED.search(value):
        raise ValueError(_refusal(found[0], "must not contain control characters"))
    return value


ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
]
OptionalShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200),
    AfterValidator(_single_line),
]
PostalCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    AfterValidator(_single_line),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_multi_line),
]
OptionalLongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=5000),
    AfterValidator(_multi_line),
]
# What staff write about their own action (why they erased a record): short, because it stays
# in the audit trail after the record is gone.
MAX_STAFF_NOTE = 500


def _no_contact_details(value: str, info: ValidationInfo) -> str:
    """What the log mask would hide, an email address or a phone number, is refused here: the
    note outlives the record, and nothing can erase it later. (Names cannot be told apart.)"""
    if not is_stored(info) and holds_contact_details(value):
        raise ValueError(
            "must not hold an email address or a phone number: it stays after the erasure"
        )
    return value


StaffNote = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_STAFF_NOTE),
    AfterValidator(_multi_line),
    AfterValidator(_no_contact_details),
]
