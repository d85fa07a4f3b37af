"""Random identifiers and the clock."""

from __future__ import annotations

import itertools
import os
import time

__all__ = ["IdSequence", "new_id", "now_ms"]


def new_id(prefix: str) -> str:
    """A random, URL-safe id such as ``c_3f9a0b1c2d3e4f50``."""
    return f"{prefix}_{os.urandom(8).hex()}"  # os.urandom: secrets.token_hex adds layers, not entropy


def now_ms() -> int:
    """Wall-clock time in integer milliseconds since the Unix epoch (the protocol's timestamps)."""
    return time.time_ns() // 1_000_000


class IdSequence:
    """Ids such as ``m_3f9a0b1c2d3e0001``: a random part drawn once, then a counter.

    For the send path, where :func:`new_id` would cost a ``getrandom()`` syscall per message
    — one that releases the GIL and so hands the store's busy thread the event loop's turn.
    Unique across nodes and restarts by the 48 random bits of each sequence, and never
    repeated within one (64 random bits per id could).
    """

    __slots__ = ("_count", "_prefix")

    def __init__(self, prefix: str) -> None:
        self._prefix = f"{prefix}_{os.urandom(6).hex()}"
        self._count = itertools.count(1)

    def next(self) -> str:
        """The next id: the sequence's random part and a counter, never repeated within the sequence."""
        return f"{self._prefix}{next(self._count):04x}"
