"""Random identifiers and the clock."""

from __future__ import annotations

import secrets
import time

__all__ = ["new_id", "now_ms"]


def new_id(prefix: str) -> str:
    """A random, URL-safe id such as ``c_3f9a0b1c2d3e4f50``."""
    return f"{prefix}_{secrets.token_hex(8)}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000
