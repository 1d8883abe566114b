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
_SEPARATORS = re.compile(r"[\s-]")
# A Client ID's compact form: hyphens gone, its prefix normalised like the rest ("CL" → "C1").
_COMPACT_PREFIX = _PREFIX.translate(_CONFUSABLES)
_COMPACT_LENGTH = len(_COMPACT_PREFIX) + _PAYLOAD_LENGTH + 1
_FRAGMENT = re.compile(rf"[{ALPHABET}]+")
# Where the hyphens of ``CL-XXXX-XXXX-XXXX`` fall in the compact form: before these positions.
_HYPHENS_BEFORE = (2, 6, 10)
# The shortest text searched for as a piece of a Client ID. The 12 symbols are random, 5 bits
# each: an n-symbol piece turns up in about R·(13 - n)/32^n of R unrelated records. At 100,000
# records a 4-symbol word ("Acme", "Bold") would list an unrelated record most of the time
# (0.86 expected), five symbols in one search of forty, six in one of 1,300. Four symbols
# within one group are still found, as the text they are.
MIN_FRAGMENT = 5


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


def _typed(text: str) -> str:
    """What was typed, upper case, without the hyphens and spaces people put anywhere."""
    return _SEPARATORS.sub("", text.upper())


def normalise_client_id(text: str) -> str:
    """Return the canonical form of a typed Client ID, or raise :class:`InvalidClientId`.

    Accepts any case, optional hyphens and spaces, and Crockford's confusable letters.
    """
    compact = _typed(text)
    if len(compact) == len(_PREFIX) + _PAYLOAD_LENGTH + 1 and compact.startswith(_PREFIX):
        compact = compact[len(_PREFIX) :]
    symbols = compact.translate(_CONFUSABLES)
    if not _SHAPE.fullmatch(symbols):
        raise InvalidClientId("a Client ID looks like CL-XXXX-XXXX-XXXX")
    if not _is_valid(symbols):
        raise InvalidClientId("this Client ID has a typo: its check symbol does not match")
    return _format(symbols)


def client_id_fragment(text: str) -> str | None:
    """``text`` read as a piece of a Client ID, compact (no hyphens, the prefix as ``C1``), or
    None when it cannot be one: shorter than :data:`MIN_FRAGMENT` or longer than a whole ID, or
    holding anything but Crockford symbols once case, hyphens, spaces and confusables are
    normalised as :func:`normalise_client_id` does (``7k2m-9xOp`` → ``7K2M9X0P``)."""
    compact = _typed(text).translate(_CONFUSABLES)
    if not MIN_FRAGMENT <= len(compact) <= _COMPACT_LENGTH or not _FRAGMENT.fullmatch(compact):
        return None
    return compact


def client_id_forms(text: str) -> list[str]:
    """How ``text``, read as a piece of a Client ID (:func:`client_id_fragment`), is written in
    the IDs that hold it: once per place it can start, with the hyphens that fall there and
    ``CL`` for a piece of the prefix (``7k2m9x4p`` → ``7K2M-9X4P``, ``7K2-M9X4-P``, …; at most
    six forms). An ID holds the piece if it contains one of them. Empty when ``text`` cannot be
    a piece of a Client ID."""
    fragment = client_id_fragment(text)
    if fragment is None:
        return []
    forms: list[str] = []
    for start in range(_COMPACT_LENGTH - len(fragment) + 1):
        if not fragment.startswith(_COMPACT_PREFIX[start:]):  # a piece of the prefix
            continue
        written = "".join(
            ("-" if i and start + i in _HYPHENS_BEFORE else "")
            + (_PREFIX[start + i] if start + i < len(_PREFIX) else symbol)
            for i, symbol in enumerate(fragment)
        )
        if written not in forms:
            forms.append(written)
    return forms


def is_client_id(text: str) -> bool:
    try:
        normalise_client_id(text)
    except InvalidClientId:
        return False
    return True
