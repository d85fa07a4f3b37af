"""Frames of the abuse controls: blocking users and reporting messages.

Defined on the bases of :mod:`parley.proto.frames_base`, like every frame;
:mod:`parley.proto.frames` re-exports every class here and includes them in
``ClientFrame`` / ``ServerFrame``, so ``frames.Block`` works like any other
frame. Import them from either module.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from parley.proto.frames_base import Id, RequestId, _Frame, _Record
from parley.proto.ids import UserId

__all__ = ["Block", "BlockInfo", "BlockList", "Blocks", "Report", "Unblock"]


class Block(_Frame, tag="block"):
    """Block ``user``: no direct messages either way, ``user`` may not add the blocker to
    conversations, and neither sees the other's presence. Answered with ``ok`` (also when
    ``user`` was already blocked)."""

    id: RequestId
    user: UserId


class Unblock(_Frame, tag="unblock"):
    """Undo a :class:`Block`; answered with ``ok`` (also when there was none)."""

    id: RequestId
    user: UserId


class BlockList(_Frame, tag="block_list"):
    """List whom the user blocks; answered with :class:`Blocks`."""

    id: RequestId


class Report(_Frame, tag="report"):
    """Report message ``seq`` of ``conv`` (the reporter must be a member) to the app's
    moderators; answered with ``ok`` (a repeat by the same user is accepted and ignored)."""

    id: RequestId
    conv: Id
    seq: Annotated[int, msgspec.Meta(ge=1, le=2**53)]
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class BlockInfo(_Record):
    """One blocked user and since when (ms)."""

    user: str
    since: int = 0


class Blocks(_Frame, tag="blocks"):
    """Reply to ``block_list``: the users this user blocks, by user id."""

    id: int
    users: Annotated[list[BlockInfo], msgspec.Meta(max_length=100_000)] = []
