"""Typed values the SDK returns: messages, conversations, pages.

They are frozen dataclasses built from wire records, so an app never handles
raw frames or ``dict[str, Any]`` replies (message bodies excepted: a body is
the app's own data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from parley.proto import frames as f

__all__ = ["Conversation", "ConversationSummary", "Member", "Message", "Page"]


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message.

    ``seq`` is dense per conversation from 1; ``kind`` is ``text``, ``rich``,
    ``custom``, ``system``, ``edit`` (body ``{"target": seq, "body": {...}}``) or
    ``recall`` (body ``{"target": seq}``). In history pages ``edited`` (a
    timestamp, 0 if never) and ``recalled`` give the message's current state.
    """

    conv: str
    seq: int
    mid: str
    sender: str
    kind: str
    body: dict[str, Any]
    ts: int
    cmid: str = ""
    mentions: tuple[str, ...] = ()
    edited: int = 0
    recalled: bool = False

    @property
    def text(self) -> str | None:
        """The text of a ``text`` message (``None`` for other kinds)."""
        value = self.body.get("text") if self.kind == "text" else None
        return value if isinstance(value, str) else None

    @property
    def target(self) -> int | None:
        """For ``edit``/``recall`` messages, the seq of the message they change."""
        value = self.body.get("target") if self.kind in ("edit", "recall") else None
        return value if isinstance(value, int) else None

    @classmethod
    def from_wire(cls, m: f.Message) -> Message:
        """Build from the wire record."""
        return cls(
            conv=m.conv,
            seq=m.seq,
            mid=m.mid,
            sender=m.sender,
            kind=m.kind,
            body=m.body,
            ts=m.ts,
            cmid=m.cmid,
            mentions=tuple(m.mentions),
            edited=m.edited,
            recalled=m.recalled,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Build from the admin API's JSON (same fields as the wire record)."""
        return cls.from_wire(msgspec.convert(data, f.Message))


@dataclass(frozen=True, slots=True)
class Member:
    """A conversation member: ``role`` is owner/admin/member, ``read`` their read position."""

    user: str
    role: str
    read: int = 0


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation's details (``kind`` is ``direct``, ``group`` or ``support``)."""

    conv: str
    kind: str
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    epoch: str = ""
    last_seq: int = 0
    created: int = 0
    #: Empty in a ``ConversationEvent`` (use ``Client.members()``); listed in replies.
    members: tuple[Member, ...] = ()
    member_count: int = 0

    @classmethod
    def from_wire(cls, c: f.ConvInfo) -> Conversation:
        """Build from the wire record."""
        return cls(
            conv=c.conv,
            kind=c.kind,
            name=c.name,
            meta=c.meta,
            epoch=c.epoch,
            last_seq=c.last_seq,
            created=c.created,
            members=tuple(Member(m.user, m.role, m.read) for m in c.members),
            member_count=c.member_count or len(c.members),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        """Build from the admin API's JSON (same fields as the wire record)."""
        return cls.from_wire(msgspec.convert(data, f.ConvInfo))


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One row of the user's conversation list, with the unread count and last message."""

    conv: str
    kind: str
    name: str = ""
    last_seq: int = 0
    read: int = 0
    unread: int = 0
    last: Message | None = None

    @classmethod
    def from_wire(cls, s: f.ConvSummary) -> ConversationSummary:
        """Build from the wire record."""
        return cls(
            conv=s.conv,
            kind=s.kind,
            name=s.name,
            last_seq=s.last_seq,
            read=s.read,
            unread=s.unread,
            last=Message.from_wire(s.last) if s.last is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Page:
    """A page of history in ascending seq order; ``more`` means older/newer messages remain."""

    conv: str
    messages: tuple[Message, ...]
    more: bool = False
