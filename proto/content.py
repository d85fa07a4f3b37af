"""Validation of message bodies by kind (pure; used by the server and the SDK).

:func:`validate_body` is the one check every path applies before a body is
stored — gateway ``send``/``edit``, the admin API, drafts' final sends: the
kind's own shape, plain data with the key rules (:mod:`parley.proto.plain`) and
a size bound on the encoded body.
"""

from __future__ import annotations

from typing import Any

import msgspec

from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.plain import problem

__all__ = ["MAX_BODY_BYTES", "MAX_TEXT", "RICH_TYPES", "validate_body"]

MAX_TEXT = 16_000
#: Default bound of a body's MessagePack encoding, in bytes (the server passes its ``max_frame``).
MAX_BODY_BYTES = 64 * 1024

_encoder = msgspec.msgpack.Encoder()
RICH_TYPES = frozenset({"image", "file", "audio", "video"})


def _fail(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_REQUEST, message)


def validate_body(kind: str, body: dict[str, Any], *, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Raise :class:`ProtocolError` (``invalid_request``) if ``body`` does not fit ``kind``,
    is not plain data (:func:`parley.proto.plain.problem`) or encodes to more than ``max_bytes``."""
    why = problem(body)
    if why:
        raise _fail(f"invalid body: {why}")
    size = len(_encoder.encode(body))
    if size > max_bytes:
        raise _fail(f"body of {size} bytes exceeds the limit of {max_bytes}")
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _fail("a text message needs a non-empty string 'text'")
        if len(text) > MAX_TEXT:
            raise _fail(f"text longer than {MAX_TEXT} characters")
    elif kind == "rich":
        if body.get("type") not in RICH_TYPES:
            raise _fail(f"a rich message needs 'type' in {sorted(RICH_TYPES)}")
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise _fail("a rich message needs an http(s) 'url'")
    elif kind == "custom":
        if not body:
            raise _fail("a custom message needs a non-empty body")
    elif kind == "system":
        if not isinstance(body.get("event"), str):
            raise _fail("a system message needs a string 'event'")
    else:
        raise _fail(f"unknown message kind {kind!r}")
