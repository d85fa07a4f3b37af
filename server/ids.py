"""Random identifiers and the clock."""

from __future__ import annotations

import os
import time

__all__ = ["new_id", "now_ms"]


def new_id(prefix: str) -> str:
    """A random, URL-safe id such as ``c_3f9a0b1c2d3e4f50``."""
    return f"{prefix}_{os.urandom(8).hex()}"  # os.urandom: secrets.token_hex adds layers, not entropy


def now_ms() -> int:
    return time.time_ns() // 1_000_000
