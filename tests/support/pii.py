"""Looking for personal data in what the platform kept, without false alarms.

Client IDs, hex ids and hashes, and timestamps are random or running: now and then one spells
a test's fragment ("AKS" in a Client ID, "7946" in a time's microseconds). They are no personal
data, so they are taken out of the text before it is searched.
"""

from __future__ import annotations

import re

_RANDOM_OR_RUNNING = re.compile(
    r"CL-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"  # Client IDs
    r"|\b[0-9a-f]{32,64}\b"  # request and event ids, hashes
    r"|\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)?"  # ISO 8601 times
)


def fragments_in(text: str, fragments: tuple[str, ...], *, ignore_case: bool = False) -> list[str]:
    """The ``fragments`` found in ``text`` once ids and times are out."""
    scrubbed = _RANDOM_OR_RUNNING.sub("", text)
    if ignore_case:
        scrubbed, fragments = scrubbed.lower(), tuple(fragment.lower() for fragment in fragments)
    return [fragment for fragment in fragments if fragment in scrubbed]
