"""Text field types that refuse what could break a log line, an email header or a layout.

HTML and spreadsheet formulas are *accepted* here and neutralised where text is output;
control characters are refused because nothing legitimate needs them in a form field.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from intake_core.domain.stored import is_stored

# Refused: control characters (Unicode category Cc), the line and paragraph separators (Zl, Zp;
# each holds one character), and the bidirectional overrides, which can make text display
# differently from what is stored. Spelled out as one character class, the check runs in C
# instead of a Python call per character (a unit test holds it to the categories).
_SINGLE_LINE_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The same, less the tab and the newline.
_MULTI_LINE_REFUSED = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_TEXT_DIRECTION = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Invisible where they are pasted, so "control characters" would leave people looking for one.
TEXT_DIRECTION_REFUSED = "must not contain invisible text-direction characters"


def _refusal(found: str, otherwise: str) -> str:
    return TEXT_DIRECTION_REFUSED if _TEXT_DIRECTION.match(found) else otherwise


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
