"""Text field types that refuse what could break a log line, an email header or a layout.

HTML and spreadsheet formulas are *accepted* here and neutralised where text is output;
control characters are refused because nothing legitimate needs them in a form field.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, ValidationInfo

from intake_core.domain.stored import is_stored

# Bidirectional overrides can make text display differently from what is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MULTILINE_ALLOWED = frozenset("\n\t")


def _forbidden(char: str, *, multiline: bool) -> bool:
    if multiline and char in _MULTILINE_ALLOWED:
        return False
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS


def _single_line(value: str, info: ValidationInfo) -> str:
    if is_stored(info):
        return value
    value = unicodedata.normalize("NFC", value)
    if any(_forbidden(char, multiline=False) for char in value):
        raise ValueError("must be a single line without control characters")
    return value


def _multi_line(value: str, info: ValidationInfo) -> str:
    if is_stored(info):
        return value
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if any(_forbidden(char, multiline=True) for char in value):
        raise ValueError("must not contain control characters")
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
