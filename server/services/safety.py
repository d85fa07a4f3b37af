"""Blocking between users, and the checks every user-initiated send, add and presence
subscription passes (see docs/PROTOCOL.md, *Blocking*).

Enforcement stays off the hot path: a connection remembers the conversations it
has checked (``Connection.cleared``) and sends into those without asking the
store again. Any change that can make a conversation unsendable (a block, a
mute) publishes a ``recheck`` control event to the users concerned, whose hubs
forget what their connections had checked (on every node).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.channels import Control, control_channel, encode_control
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.invites_port import InvitationStore
from parley.server.ports import Broker
from parley.server.safety_port import SafetyStore
from parley.server.store_ports import Conversations

__all__ = ["SafetyService"]


class BlockStore(SafetyStore, InvitationStore, Conversations, Protocol):
    """The role ports this service uses: blocks, mutes, invitations and memberships."""


class SafetyService:
    """Blocks (stored behind :class:`~parley.server.safety_port.SafetyStore`) and their checks."""

    def __init__(self, store: BlockStore, broker: Broker) -> None:
        self._store = store
        self._broker = broker

    # ----------------------------------------------------------- blocking
    async def block(self, app: str, user: str, target: str) -> None:
        """``user`` blocks ``target`` (idempotent); both users' connections stop what it forbids."""
        if target == user:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "a user cannot block themselves")
        await self._store.add_block(app, user, target, now_ms())
        # Pending group invitations between the two lapse (and free the places they held).
        await self._store.delete_invitations_between(app, user, target)
        # Even for a repeat: a lost control event of the first call is repaired by the second.
        self.recheck(app, user, peer=target)
        self.recheck(app, target, peer=user)

    async def unblock(self, app: str, user: str, target: str) -> None:
        """Undo a block (idempotent). Nothing to tell the connections: nothing became forbidden."""
        await self._store.remove_block(app, user, target)

    async def blocked(self, app: str, user: str) -> list[frames.BlockInfo]:
        """Whom ``user`` blocks, by user id."""
        return [
            frames.BlockInfo(user=b.blocked, since=b.created)
            for b in await self._store.list_blocks(app, user)
        ]

    def recheck(self, app: str, user: str, *, peer: str = "") -> None:
        """Tell every node: ``user``'s connections must check their conversations again (and stop
        watching ``peer``'s presence, if given)."""
        control = Control(op="recheck", app=app, user=user, conv="", frame=b"", peer=peer)
        self._broker.publish(control_channel(app, user), encode_control(control))

    # -------------------------------------------------------------- checks
    async def hidden(self, app: str, user: str, others: Collection[str]) -> set[str]:
        """Those of ``others`` that ``user`` blocks or is blocked by: no presence either way."""
        if not others:
            return set()
        found = await self._store.blocks_between(app, user, others)
        return {b.blocked if b.blocker == user else b.blocker for b in found}

    async def check_add(self, app: str, actor: str, kind: str, users: Sequence[str]) -> None:
        """``actor`` puts ``users`` into a conversation (create or add): refused with ``blocked`` if a
        user blocks the actor — or, for a direct conversation, if a block exists either way."""
        others = [u for u in dict.fromkeys(users) if u != actor]
        for b in await self._store.blocks_between(app, actor, others):
            if b.blocked == actor:
                raise ServiceError(ErrorCode.BLOCKED, f"{b.blocker} does not accept you")
            if kind == "direct":
                raise ServiceError(ErrorCode.BLOCKED, f"you block {b.blocked}: unblock them first")

    async def check_send(self, app: str, user: str, conv: str) -> None:
        """A member may write into ``conv`` (message, edit, recall, typing, draft) unless muted
        there by the app (``muted``) or, in a direct conversation, blocked (``blocked``)."""
        mute = await self._store.get_mute(app, conv, user)
        if mute is not None and mute.until > now_ms():
            until = datetime.fromtimestamp(mute.until / 1000, UTC).isoformat(timespec="seconds")
            why = f": {mute.reason}" if mute.reason else ""
            raise ServiceError(ErrorCode.MUTED, f"you are muted in this conversation until {until}{why}")
        conversation = await self._store.get_conversation(app, conv)
        if conversation is None or conversation.kind != "direct":
            return
        others = [m.user for m in await self._store.list_members(app, conv) if m.user != user]
        for b in await self._store.blocks_between(app, user, others):
            who = f"you block {b.blocked}" if b.blocker == user else f"{b.blocker} blocks you"
            raise ServiceError(ErrorCode.BLOCKED, f"{who}: no direct messages")
