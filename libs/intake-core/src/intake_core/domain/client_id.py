"""Client IDs: ``CL-XXXX-XXXX-XXXX``, Crockford base32, Luhn mod 32 check symbol.

Eleven symbols come from a CSPRNG (55 bits), so IDs are neither sequential nor guessable;
the twelfth is a Luhn mod N check symbol, so a mistyped ID is rejected before any lookup.
"""

from __future__ import annotations

import re

from intake_core.domain.entropy import random_bits

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE = len(ALPHABET)
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_PAYLOAD_LENGTH = 11
_PREFIX = "CL"
# Crockford's decoding rules: read I and L as one, O as zero.
_CONFUSABLES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SHAPE = re.compile(rf"[{ALPHABET}]{{{_PAYLOAD_LENGTH + 1}}}")


class InvalidClientId(ValueError):
    """The text is not a well-formed Client ID, or its check symbol does not match."""


def check_symbol(payload: str) -> str:
    """Luhn mod 32 over ``payload``: factor 2 on the rightmost symbol, alternating leftwards."""
    total = 0
    factor = 2
    for symbol in reversed(payload):
        addend = factor * _VALUE[symbol]
        total += addend // _BASE + addend % _BASE
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_BASE - total % _BASE) % _BASE]


def _is_valid(symbols: str) -> bool:
    return check_symbol(symbols[:-1]) == symbols[-1]


def _format(symbols: str) -> str:
    return f"{_PREFIX}-{symbols[0:4]}-{symbols[4:8]}-{symbols[8:12]}"


def new_client_id() -> str:
    bits = random_bits(5 * _PAYLOAD_LENGTH)  # 5 bits per base32 symbol
    payload = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(_PAYLOAD_LENGTH))
    return _format(payload + check_symbol(payload))


def normalise_client_id(text: str) -> str:
    """Return the canonical form of a typed Client ID, or raise :class:`InvalidClientId`.

    Accepts any case, optional hyphens and spaces, and Crockford's confusable letters.
    """
    compact = re.sub(r"[\s-]", "", text.strip().upper())
    if len(compact) == len(_PREFIX) + _PAYLOAD_LENGTH + 1 and compact.startswith(_PREFIX):
        compact = compact[len(_PREFIX) :]
    symbols = compact.translate(_CONFUSABLES)
    if not _SHAPE.fullmatch(symbols):
        raise InvalidClientId("a Client ID looks like CL-XXXX-XXXX-XXXX")
    if not _is_valid(symbols):
        raise InvalidClientId("this Client ID has a typo: its check symbol does not match")
    return _format(symbols)


def is_client_id(text: str) -> bool:
    try:
        normalise_client_id(text)
    except InvalidClientId:
        return False
    return True
