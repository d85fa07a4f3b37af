"""Validation of message bodies by kind (pure; used by the server and the SDK)."""

from __future__ import annotations

from typing import Any

from parley.proto.errors import ErrorCode, ProtocolError

__all__ = ["MAX_TEXT", "RICH_TYPES", "validate_body"]

MAX_TEXT = 16_000
RICH_TYPES = frozenset({"image", "file", "audio", "video"})


def _fail(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_REQUEST, message)


def validate_body(kind: str, body: dict[str, Any]) -> None:
    """Raise :class:`ProtocolError` (``invalid_request``) if ``body`` does not fit ``kind``."""
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
