"""Conversation management requests, mixed into :class:`~parley.sdk.client.Client`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, Literal

from parley.proto import frames as f
from parley.sdk.models import Conversation, ConversationSummary, Member
from parley.sdk.requests import Reply

__all__ = ["ConversationOps", "Role"]

#: A member's role in a conversation.
Role = Literal["owner", "admin", "member"]


class ConversationOps:
    """Create, list, inspect and change conversations and their members."""

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        raise NotImplementedError

    def _learn(self, info: f.ConvInfo) -> None:
        """Hook: a conversation's details arrived (the client starts tracking it)."""

    async def _conv(self, build: Callable[[int], Any], idempotent: bool = True) -> Conversation:
        reply = await self._request(build, idempotent)
        if not isinstance(reply, f.ConvResult):
            raise TypeError(f"expected a conversation, got {type(reply).__name__}")
        self._learn(reply.conv)
        return Conversation.from_wire(reply.conv)

    async def conversations(self) -> list[ConversationSummary]:
        """The user's conversations with unread counts and last messages, newest activity first.

        Fetched page by page (``conv_list``), so a user in thousands of conversations never
        gets a reply near the frame limit; a last message is a preview (see ``truncated``).
        """
        found: list[f.ConvSummary] = []
        after = ""
        while True:
            reply = await self._request(functools.partial(_conv_list, after))
            assert isinstance(reply, f.ConvListResult)
            found += reply.convs
            if not reply.more or not reply.convs:
                break
            after = max(s.conv for s in reply.convs)
        found.sort(key=_activity, reverse=True)
        return [ConversationSummary.from_wire(s) for s in found]

    async def conversation(self, conv: str) -> Conversation:
        """Details and members of ``conv``."""
        return await self._conv(lambda rid: f.ConvGet(id=rid, conv=conv))

    async def members(self, conv: str) -> list[Member]:
        """Every member of ``conv`` in user id order, fetched page by page (``member_list``)."""
        found: list[Member] = []
        after = ""
        while True:
            reply = await self._request(functools.partial(_member_list, conv, after))
            assert isinstance(reply, f.MemberPage)
            found += [Member(m.user, m.role, m.read) for m in reply.members]
            if not reply.more or not reply.members:
                return found
            after = reply.members[-1].user

    async def create_direct(self, user: str) -> Conversation:
        """The one-to-one conversation with ``user`` (created on first use, then the same one)."""
        return await self._conv(lambda rid: f.ConvCreate(id=rid, kind="direct", members=[user]))

    async def create_group(
        self, name: str, members: Iterable[str], *, meta: dict[str, Any] | None = None
    ) -> Conversation:
        """A new group named ``name`` with ``members`` (the caller becomes its owner). Under the
        app's ``invite`` add policy, members who share no conversation with the caller are
        invited instead (they are not in the returned ``members`` until they accept)."""
        users = list(members)
        return await self._conv(
            lambda rid: f.ConvCreate(id=rid, kind="group", members=users, name=name, meta=meta or {}),
            idempotent=False,
        )

    async def create_support(
        self, name: str = "", *, members: Iterable[str] = (), meta: dict[str, Any] | None = None
    ) -> Conversation:
        """A new customer-service conversation (the bot and agents join it on the server side)."""
        users = list(members)
        return await self._conv(
            lambda rid: f.ConvCreate(id=rid, kind="support", members=users, name=name, meta=meta or {}),
            idempotent=False,
        )

    async def update_conversation(
        self, conv: str, *, name: str | None = None, meta: dict[str, Any] | None = None
    ) -> Conversation:
        """Rename ``conv`` and/or replace its ``meta``; members get a ``ConversationEvent``."""
        return await self._conv(lambda rid: f.ConvUpdate(id=rid, conv=conv, name=name, meta=meta))

    async def add_members(self, conv: str, users: Iterable[str], *, role: Role = "member") -> None:
        """Add ``users`` to ``conv`` with ``role`` (under the app's ``invite`` add policy, those
        sharing no conversation with the caller are invited instead and join when they accept)."""
        names = list(users)
        await self._request(lambda rid: f.MemberAdd(id=rid, conv=conv, users=names, role=role))

    async def remove_members(self, conv: str, users: Iterable[str]) -> None:
        """Remove ``users`` from ``conv`` (needs owner or admin)."""
        names = list(users)
        await self._request(lambda rid: f.MemberRemove(id=rid, conv=conv, users=names))

    async def set_role(self, conv: str, user: str, role: Role) -> None:
        """Make ``user`` an owner, admin or member of ``conv``."""
        await self._request(lambda rid: f.MemberRole(id=rid, conv=conv, user=user, role=role))

    async def leave(self, conv: str) -> None:
        """Leave ``conv``."""
        await self._request(lambda rid: f.Leave(id=rid, conv=conv))


def _member_list(conv: str, after: str, rid: int) -> f.MemberList:
    return f.MemberList(id=rid, conv=conv, after=after, limit=500)


def _activity(summary: f.ConvSummary) -> tuple[int, int, str]:
    """The sort key of "newest activity first": the last message's ``ts`` — whole milliseconds,
    so a create and a send within one millisecond tie — then its id, whose counter grows per
    node (longer ids are later), so a tie goes to the later message rather than to whichever
    random conversation id sorts first."""
    last = summary.last
    return (last.ts, len(last.mid), last.mid) if last else (0, 0, "")


def _conv_list(after: str, rid: int) -> f.ConvList:
    return f.ConvList(id=rid, after=after, limit=100)
