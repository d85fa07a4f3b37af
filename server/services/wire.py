"""Conversions from records to wire structs (shared by the gateway and admin API)."""

from __future__ import annotations

from typing import Any

import msgspec

from parley.proto import frames
from parley.server.models import Conversation, Member, StoredMessage

__all__ = ["conv_info", "preview", "wire_message"]


def wire_message(m: StoredMessage) -> frames.Message:
    """The ``msg`` frame of a stored message, field for field (tombstones and edits included)."""
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


def preview(m: StoredMessage, max_bytes: int) -> frames.Message:
    """``m`` for a conversation list: whole if it encodes within ``max_bytes``, else cut.

    A cut preview keeps the start of a ``text`` body (``{"text": ..., "truncated": true}``)
    and drops ``mentions``; the whole message is in history.
    """
    whole = wire_message(m)
    if len(msgspec.msgpack.encode(whole)) <= max_bytes:
        return whole
    text = m.body.get("text")
    body: dict[str, Any] = {"truncated": True}
    if isinstance(text, str):
        # A character is at most 4 bytes of UTF-8; leave room for the other fields.
        body["text"] = text[: max(0, (max_bytes - 256) // 4)]
    return msgspec.structs.replace(whole, body=body, mentions=[])
