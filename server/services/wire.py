"""Conversions from records to wire structs (shared by the gateway and admin API)."""

from __future__ import annotations

from parley.proto import frames
from parley.server.models import Conversation, Member, StoredMessage

__all__ = ["conv_info", "wire_message"]


def wire_message(m: StoredMessage) -> frames.Message:
    return frames.Message(
        conv=m.conv,
        seq=m.seq,
        mid=m.mid,
        sender=m.sender,
        kind=m.kind,
        body=m.body,
        ts=m.ts,
        cmid=m.cmid,
        mentions=list(m.mentions),
        edited=m.edited,
        recalled=m.recalled,
    )


def conv_info(
    c: Conversation, members: list[Member] | None = None, *, member_count: int | None = None
) -> frames.ConvInfo:
    """The wire record; ``member_count`` defaults to the members given."""
    return frames.ConvInfo(
        conv=c.conv,
        kind=c.kind,
        name=c.name,
        meta=c.meta,
        epoch=c.epoch,
        last_seq=c.last_seq,
        created=c.created,
        members=[frames.MemberInfo(user=m.user, role=m.role, read=m.read_seq) for m in members or []],
        member_count=len(members or []) if member_count is None else member_count,
    )
