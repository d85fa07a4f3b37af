"""Small decisions the connection makes: when to reconnect, when a token is stale."""

from __future__ import annotations

import base64
import json

from parley.proto.errors import CloseCode

__all__ = ["should_reconnect", "token_expiry"]


def token_expiry(token: str | None) -> float | None:
    """The ``exp`` claim of a JWT (unverified, seconds), or ``None`` if absent or unreadable."""
    try:
        payload = token.split(".")[1] if token else ""
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        return float(exp) if isinstance(exp, int | float) else None
    except (ValueError, IndexError):
        return None


def should_reconnect(code: int | None) -> bool:
    """Whether a close with ``code`` calls for an automatic reconnect (unknown codes: yes)."""
    if code is None:
        return True
    try:
        return CloseCode(code).reconnect
    except ValueError:
        return True
