"""Frames of group invitations: the ``invite`` add policy's "must accept".

Under the ``invite`` add policy, a manager who adds a user they share no
conversation with creates an invitation instead of a membership; the invitee
gets an :class:`Invited` event, lists pending invitations with
:class:`InviteList` and answers with :class:`InviteAccept` or
:class:`InviteDecline`. Defined on the bases of :mod:`parley.proto.frames_base`;
:mod:`parley.proto.frames` re-exports every class here and includes them in ``ClientFrame`` /
``ServerFrame`` (like :mod:`parley.proto.frames_safety`). Import them from
either module.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from parley.proto.frames_base import Id, Limit, RequestId, _Frame, _Record

__all__ = ["InvitationInfo", "Invitations", "InviteAccept", "InviteDecline", "InviteList", "Invited"]


class InvitationInfo(_Record):
    """One pending invitation: ``inviter`` offers membership of group ``conv`` (named
    ``name``) with ``role``; sent at ``created`` and void from ``expires`` (ms)."""

    conv: str
    inviter: str
    name: str = ""
    role: str = "member"
    created: int = 0
    expires: int = 0


class InviteList(_Frame, tag="invite_list"):
    """A page of the user's pending invitations, in conversation id order (``conv > after``);
    answered with :class:`Invitations`."""

    id: RequestId
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""
    limit: Limit = 100


class InviteAccept(_Frame, tag="invite_accept"):
    """Accept the invitation to ``conv``: the user joins (a ``joined`` event, as for any
    add) and gets the conversation as a ``conv`` reply. Idempotent: accepting again once a
    member answers the same; of two accepts at once exactly one joins. ``not_found`` if
    there is no pending invitation (declined, expired, never sent)."""

    id: RequestId
    conv: Id


class InviteDecline(_Frame, tag="invite_decline"):
    """Decline (remove) the invitation to ``conv``; answered with ``ok`` (also when there
    was none). The inviter is not told."""

    id: RequestId
    conv: Id


class Invitations(_Frame, tag="invitations"):
    """Reply to ``invite_list``: a page of pending invitations and whether more follow."""

    id: int
    invitations: Annotated[list[InvitationInfo], msgspec.Meta(max_length=500)] = []
    more: bool = False


class Invited(_Frame, tag="invited"):
    """Pushed to every connection of a user who has just been invited to a group."""

    invitation: InvitationInfo
