"""Opaque, tamper-proof continuation tokens.

The store hands out a raw position (where the next page starts). Staff get that position signed
with HMAC-SHA256 and bound to the filters it was issued for, so a token cannot be forged, edited,
or replayed against another query. The signing secret comes from configuration, so every replica
accepts the tokens of the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

_SEPARATOR = "."
MAX_TOKEN_LENGTH = 2048


class InvalidPageToken(ValueError):
    """The continuation token was not issued by us for this query."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, position: bytes, query_key: str) -> bytes:
        message = query_key.encode() + b"\x00" + position
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def sign(self, position: str, query_key: str) -> str:
        raw = position.encode()
        return f"{_b64encode(raw)}{_SEPARATOR}{_b64encode(self._mac(raw, query_key))}"

    def open(self, token: str, query_key: str) -> str:
        """The store's position inside ``token``, or :class:`InvalidPageToken`."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(_SEPARATOR) != 1:
            raise InvalidPageToken("continuationToken is not valid")
        encoded_position, encoded_mac = token.split(_SEPARATOR)
        try:
            position = _b64decode(encoded_position)
            mac = _b64decode(encoded_mac)
        except (binascii.Error, ValueError):
            raise InvalidPageToken("continuationToken is not valid") from None
        if not hmac.compare_digest(mac, self._mac(position, query_key)):
            raise InvalidPageToken("continuationToken is not valid for this query")
        return position.decode()
