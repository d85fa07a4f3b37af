"""The bases and bounded field types every frame module builds on.

:class:`_Frame` fixes the wire shape of a frame (a map whose ``"t"`` key is the
frame's tag, defaults omitted, keyword-only fields) and :class:`_Record` the
shape of a map nested inside frames (no ``t``). The annotated aliases carry the
bounds the decoder enforces, so a field declared with one of them is checked
while decoding, before any handler sees the frame. Nothing here is a frame:
:mod:`parley.proto.frames` is where frames are imported from.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from parley.proto.ids import UserId

__all__ = [
    "Body",
    "ClientMsgId",
    "ConvKind",
    "Id",
    "Limit",
    "Name",
    "RequestId",
    "Role",
    "SendKind",
    "Seq",
    "SupportReason",
    "Summary",
    "TagName",
    "UserList",
]

#: A client-chosen request id; the reply carries it back.
RequestId = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
#: A position in a conversation's stream (0: before the first message).
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
#: A conversation (or other entity) id as a client may send it.
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
#: The client's idempotency key for a message (also a draft's id).
ClientMsgId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
#: A conversation's display name.
Name = Annotated[str, msgspec.Meta(max_length=200)]
#: A page size.
Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
#: The users one request may name at once.
UserList = Annotated[list[UserId], msgspec.Meta(max_length=1000)]
#: Free-form content (a message body, conversation ``meta``); held to the plain-data rules
#: of :mod:`parley.proto.plain` by the decoder.
Body = dict[str, Any]
ConvKind = Literal["direct", "group", "support"]
#: Kinds a client may send. The server adds ``system``, ``edit`` and ``recall``.
SendKind = Literal["text", "rich", "custom"]
Role = Literal["owner", "admin", "member"]
#: Why a support conversation is handed to a human.
SupportReason = Annotated[str, msgspec.Meta(max_length=200)]
#: What the bot tells the agent who takes over.
Summary = Annotated[str, msgspec.Meta(max_length=4000)]
#: A profile tag's name.
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class _Frame(msgspec.Struct, tag_field="t", omit_defaults=True, kw_only=True):
    """Base of every frame."""


class _Record(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A map nested inside frames (no ``t`` key)."""
