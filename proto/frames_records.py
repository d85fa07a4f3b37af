"""The records nested inside frames: maps without a ``t`` key.

Messages, positions, conversation and member views, sync outcomes, profile tags.
Frames of both directions carry them, so they live apart from either; import
them from :mod:`parley.proto.frames`, which re-exports every name here.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from parley.proto.frames_base import Body, Id, Seq, TagName, _Record

__all__ = [
    "ConvInfo",
    "ConvSummary",
    "MemberInfo",
    "Message",
    "Position",
    "ProfileInfo",
    "SyncState",
    "Tag",
    "TagInput",
]


class Message(_Record):
    """A stored message as it travels on the wire.

    ``kind`` is one of ``text`` (body ``{"text": str}``), ``rich`` (body
    ``{"type": "image"|"file"|"audio"|"video", "url": str, ...}``), ``custom``
    (any map), ``system`` (server events, body ``{"event": str, ...}``),
    ``edit`` (body ``{"target": seq, "body": {...}}``) or ``recall`` (body
    ``{"target": seq}``). In history pages ``edited``/``recalled`` show the
    message's current state; a recalled message has an empty body.
    """

    conv: str
    seq: int
    mid: str
    sender: str
    kind: str
    body: Body
    ts: int
    cmid: str = ""
    mentions: list[str] = []
    edited: int = 0
    recalled: bool = False


class Position(_Record):
    """Where a client stands in one conversation: last seq seen and the stream epoch."""

    conv: Id
    seq: Seq
    epoch: str = ""


class MemberInfo(_Record):
    """One member of a conversation: role and read position (highest seq read)."""

    user: str
    role: str
    read: int = 0


class ConvInfo(_Record):
    """A conversation as a member sees it: kind, name, meta, stream epoch and newest seq.

    ``members`` is filled only where the reply says so (empty in ``conv_event``); the
    member count is always set, so a large group never has to travel whole.
    """

    conv: str
    kind: str
    name: str = ""
    meta: Body = {}
    epoch: str = ""
    last_seq: int = 0
    created: int = 0
    members: list[MemberInfo] = []
    member_count: int = 0


class ConvSummary(_Record):
    """One row of a user's conversation list."""

    conv: str
    kind: str
    name: str = ""
    last_seq: int = 0
    read: int = 0
    unread: int = 0
    last: Message | None = None


class SyncState(_Record):
    """Per-conversation outcome of a ``sync``.

    ``more`` means more messages follow a new ``sync`` from the last one
    received; ``reset`` means the client's position cannot be resumed (the
    stream was reset): drop local state for the conversation and refetch.
    """

    conv: str
    last_seq: int
    epoch: str
    more: bool = False
    reset: bool = False


class TagInput(_Record):
    """A tag a client asks to add to a profile (``profile_tag``); the server sets source and time."""

    name: TagName
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    #: Seconds until the tag expires; 0 = never.
    ttl: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: Message id the tag was derived from.
    evidence: Annotated[str, msgspec.Meta(max_length=128)] = ""


class Tag(_Record):
    """A tag on a profile: where it came from, how sure, on what evidence, until when."""

    name: str
    #: ``rule`` | ``model`` | ``agent`` | ``customer`` | ``bot``
    source: str
    confidence: float = 1.0
    evidence: str = ""
    ts: int = 0
    #: Expiry time (ms since the epoch); 0 = never.
    expires: int = 0


class ProfileInfo(_Record):
    """A customer's profile: live tags, structured attributes and activity counters."""

    user: str
    tags: list[Tag] = []
    attributes: Body = {}
    counters: dict[str, int] = {}
