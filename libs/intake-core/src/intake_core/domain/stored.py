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
    context = info.context
    return isinstance(context, Mapping) and bool(context.get("stored"))


def unless_stored(check: Callable[[str], str]) -> AfterValidator:
    """Run ``check`` on input from outside; pass stored values through as they are."""

    def validate(value: str, info: ValidationInfo) -> str:
        return value if is_stored(info) else check(value)

    return AfterValidator(validate)
