"""Reading back what the platform wrote itself, without paying for its input checks again.

Documents in the store were validated in full on the way in. Validating them with the ``STORED``
context keeps the shape checks (types, enums, lengths) and skips the costly ones (email syntax,
phone metadata, Unicode scans): about 90 % of the time it takes to load a record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from pydantic import AfterValidator, ValidationInfo

STORED: Final[Mapping[str, bool]] = MappingProxyType({"stored": True})


def is_stored(info: ValidationInfo) -> bool:
    # Identity, not a Mapping lookup: this runs for every field of every record read, and an
    # isinstance check against an ABC cost more than the validation it saves.
    return info.context is STORED


def unless_stored(check: Callable[[str], str]) -> AfterValidator:
    """Run ``check`` on input from outside; pass stored values through as they are."""

    def validate(value: str, info: ValidationInfo) -> str:
        return value if is_stored(info) else check(value)

    return AfterValidator(validate)
