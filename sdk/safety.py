"""Abuse controls a user drives, mixed into :class:`~parley.sdk.client.Client`: blocking other
users, and reporting a message to the app's moderators (:meth:`SafetyOps.report`).

Blocking ``user`` means: no direct messages either way (sends, edits, typing
and drafts in the direct conversation fail with ``ReplyError`` code
``blocked``), ``user`` cannot put the blocker into a conversation, and neither
sees the other's presence (a subscription shows the other as offline, never
seen). The blocker may still add the blocked user to a group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.proto import frames as f
from parley.sdk.requests import Reply

__all__ = ["BlockedUser", "SafetyOps"]


@dataclass(frozen=True, slots=True)
class BlockedUser:
    """A user this user blocks, and since when (ms since the epoch)."""

    user: str
    since: int = 0


class SafetyOps:
    """Block, unblock and list blocked users; report messages."""

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        raise NotImplementedError

    async def block(self, user: str) -> None:
        """Block ``user`` (no error if already blocked)."""
        await self._request(lambda rid: f.Block(id=rid, user=user))

    async def unblock(self, user: str) -> None:
        """Undo a block of ``user`` (no error if there was none)."""
        await self._request(lambda rid: f.Unblock(id=rid, user=user))

    async def report(self, conv: str, seq: int, *, reason: str = "") -> None:
        """Report message ``seq`` of ``conv`` to the app's moderators (their review queue)."""
        await self._request(lambda rid: f.Report(id=rid, conv=conv, seq=seq, reason=reason))

    async def blocked_users(self) -> list[BlockedUser]:
        """Whom this user blocks, by user id."""
        reply = await self._request(lambda rid: f.BlockList(id=rid))
        assert isinstance(reply, f.Blocks)
        return [BlockedUser(b.user, b.since) for b in reply.users]
