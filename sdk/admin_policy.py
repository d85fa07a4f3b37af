"""The app's reach policy through :class:`~parley.sdk.admin.AdminClient`: whose presence users
may watch (``shared``: users they share a conversation with; ``all``) and whom a group's
managers may add (``anyone``; ``contacts``: users already sharing a conversation with them;
``invite``: contacts at once, anyone else gets an invitation to accept or decline).
Refused requests fail in the SDK with ``ReplyError`` code ``forbidden``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AppPolicy", "PolicyOps"]


@dataclass(frozen=True, slots=True)
class AppPolicy:
    """An app's effective reach policy (its own choices, the server's defaults for the rest)."""

    presence: str
    add: str


class PolicyOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def policy(self) -> AppPolicy:
        """The app's presence and add policy."""
        return _policy(await self._call("GET", "/v1/policy"))

    async def set_policy(self, *, presence: str | None = None, add: str | None = None) -> AppPolicy:
        """Change the presence and/or add policy (``None`` keeps the current value)."""
        body = {k: v for k, v in {"presence": presence, "add": add}.items() if v is not None}
        return _policy(await self._call("PUT", "/v1/policy", json=body))


def _policy(data: Any) -> AppPolicy:
    return AppPolicy(presence=str(data["presence"]), add=str(data["add"]))
