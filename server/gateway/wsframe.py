"""WebSocket framing of server-to-client binary messages (RFC 6455 §5.2), without I/O.

A server frame is unmasked, so the same framed bytes can go to every recipient
of a fan-out: the hub frames a message once and writes that one object to each
local socket that negotiated no extension.
"""

from __future__ import annotations

import struct

__all__ = ["binary_frame"]

_FIN_BINARY = 0x82
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")


def binary_frame(payload: bytes) -> bytes:
    """One final, unmasked binary frame carrying ``payload``."""
    size = len(payload)
    if size < 126:
        return bytes((_FIN_BINARY, size)) + payload
    if size < 1 << 16:
        return _LEN16.pack(_FIN_BINARY, 126, size) + payload
    return _LEN64.pack(_FIN_BINARY, 127, size) + payload
