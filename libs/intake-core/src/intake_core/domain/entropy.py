"""Random bytes from the operating system's CSPRNG, fetched a block at a time.

Every ``os.urandom`` call (and so every ``secrets`` and ``uuid.uuid4`` call) lets go of the
interpreter's lock around its ``getrandom`` system call. On a busy event loop, with the store's
threads waiting for that lock, each such call can hand the lock to another thread and wait to
get it back: under 100 back-to-back clients, intake-api's event loop spent a sixth of its time in
the Client ID's random bits. Fetched 4 KiB at a time, the same bytes cost one system call per
couple of hundred submissions.

The bytes are ``os.urandom``'s, only fetched ahead of use. A process forked from this one starts
with an empty block, so parent and child never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import uuid

BLOCK_BYTES = 4096


class _Block:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._used = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._used + count > len(self._bytes):
                self._bytes, self._used = os.urandom(max(BLOCK_BYTES, count)), 0
            start, self._used = self._used, self._used + count
            return self._bytes[start : self._used]

    def forget(self) -> None:
        """In a forked child: drop the parent's block (and its lock, which may be held)."""
        self._lock = threading.Lock()
        self._bytes, self._used = b"", 0


_BLOCK = _Block()
os.register_at_fork(after_in_child=_BLOCK.forget)


def random_bytes(count: int) -> bytes:
    """``count`` bytes from the operating system's CSPRNG, as ``os.urandom(count)``."""
    return _BLOCK.take(count)


def random_bits(count: int) -> int:
    """A non-negative integer of ``count`` random bits, as ``secrets.randbits(count)``."""
    whole_bytes = (count + 7) // 8
    return int.from_bytes(random_bytes(whole_bytes), "big") >> (whole_bytes * 8 - count)


def random_uuid() -> uuid.UUID:
    """A version 4 UUID, as ``uuid.uuid4()``."""
    return uuid.UUID(bytes=random_bytes(16), version=4)
