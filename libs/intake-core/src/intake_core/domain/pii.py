"""Recognising contact details in free text: email addresses and phone numbers.

The log formatter masks what these find, and checks refuse them where text outlives the record
(an erasure's note). Names cannot be told from other words, so they are not recognised.
"""

from __future__ import annotations

import re

# Also percent-encoded (``%40``), as in a URL's query string. Letters and digits of any script
# (``\w``), since the form accepts internationalised addresses such as ``zoë@exämple.com``.
_EMAIL = re.compile(r"([\w.%+-])[\w.%+-]*?(?:@|%40)([\w.-]+\.[^\W\d_]{2,})")
# Seven or more digits, possibly grouped with spaces, dots, dashes or brackets, maybe with a +.
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d(?:[\s().-]{0,2}\d){6,}(?![\w-])")


def mask_pii(text: str) -> str:
    """``ada@example.com`` → ``a***@example.com``; ``+44 20 7946 0958`` → ``+44********58``."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        lead = "+" if match.group(0).startswith("+") else ""
        return f"{lead}{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"

    return _PHONE.sub(phone, text)


def holds_contact_details(text: str) -> bool:
    """True when ``text`` holds an email address or phone number that :func:`mask_pii` masks."""
    return mask_pii(text) != text
