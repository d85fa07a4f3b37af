"""Group invitations, mixed into :class:`~parley.sdk.client.Client`.

Under an app's ``invite`` add policy, a group's manager who adds someone they
share no conversation with sends them an invitation instead: the user is not a
member until they accept. A received invitation arrives as an
:class:`~parley.sdk.events.InvitationEvent` (on every connected device);
:meth:`InviteOps.invitations` lists the pending ones; :meth:`InviteOps.accept_invitation`
joins (a ``joined`` :class:`~parley.sdk.events.ConversationEvent` follows, as for any
add) and :meth:`InviteOps.decline_invitation` removes one. An invitation lapses
after the server's ``invite_ttl``; accepting a lapsed, declined or unknown one
fails with ``ReplyError`` code ``not_found``, and past the join quota with
``limit_exceeded`` (the invitation stays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.proto import frames as f
from parley.sdk.models import Conversation
from parley.sdk.requests import Reply

__all__ = ["Invitation", "InviteOps"]


@dataclass(frozen=True, slots=True)
class Invitation:
    """``inviter`` invites this user to group ``conv`` (named ``name``) with ``role``; sent at
    ``created``, lapses at ``expires`` (ms since the epoch)."""

    conv: str
    inviter: str
    name: str
    role: str
    created: int
    expires: int

    @classmethod
    def from_wire(cls, info: f.InvitationInfo) -> Invitation:
        """The SDK value of an ``InvitationInfo`` record."""
        return cls(info.conv, info.inviter, info.name, info.role, info.created, info.expires)


class InviteOps:
    """List, accept and decline the user's pending group invitations."""

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        raise NotImplementedError

    def _learn(self, info: f.ConvInfo) -> None:
        """Hook: a conversation's details arrived (the client starts tracking it)."""

    async def invitation_page(self, *, after: str = "", limit: int = 100) -> tuple[list[Invitation], bool]:
        """One page of pending invitations with conversation ids after ``after`` (by conversation
        id), and whether more follow (ask again with ``after`` = the last one's ``conv``)."""
        reply = await self._request(lambda rid: f.InviteList(id=rid, after=after, limit=limit))
        assert isinstance(reply, f.Invitations)
        return [Invitation.from_wire(i) for i in reply.invitations], reply.more

    async def invitations(self) -> list[Invitation]:
        """Every pending invitation, by conversation id (fetched page by page)."""
        found: list[Invitation] = []
        after = ""
        while True:
            page, more = await self.invitation_page(after=after)
            found += page
            if not more or not page:
                return found
            after = page[-1].conv

    async def accept_invitation(self, conv: str) -> Conversation:
        """Join ``conv`` by accepting its invitation; returns the conversation. Safe to repeat
        (once a member, it returns the conversation again)."""
        reply = await self._request(lambda rid: f.InviteAccept(id=rid, conv=conv))
        if not isinstance(reply, f.ConvResult):
            raise TypeError(f"expected a conversation, got {type(reply).__name__}")
        self._learn(reply.conv)
        return Conversation.from_wire(reply.conv)

    async def decline_invitation(self, conv: str) -> None:
        """Decline (remove) the invitation to ``conv``; no error if there is none."""
        await self._request(lambda rid: f.InviteDecline(id=rid, conv=conv))
