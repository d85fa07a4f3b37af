"""Frames a client sends to the server: requests and ephemeral signals.

Every request carries an ``id`` the server's reply (a typed result or an
``error`` frame) echoes. The fields' bounds are part of their types, so the
server's decoder refuses an out-of-bounds request before any handler runs.
Import these from :mod:`parley.proto.frames`, which re-exports every name here
and builds ``ClientFrame`` from them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from parley.proto.frames_base import (
    Body,
    ClientMsgId,
    ConvKind,
    Id,
    Limit,
    Name,
    RequestId,
    Role,
    SendKind,
    Seq,
    Summary,
    SupportReason,
    TagName,
    UserList,
    _Frame,
)
from parley.proto.frames_records import Position, TagInput
from parley.proto.ids import UserId

__all__ = [
    "ConvCreate",
    "ConvGet",
    "ConvList",
    "ConvUpdate",
    "Draft",
    "Edit",
    "Hello",
    "History",
    "Leave",
    "MemberAdd",
    "MemberList",
    "MemberRemove",
    "MemberRole",
    "Ping",
    "PresenceSub",
    "PresenceUnsub",
    "ProfileGet",
    "ProfileTag",
    "Read",
    "Recall",
    "Send",
    "SupportClaim",
    "SupportHandoff",
    "SupportNote",
    "SupportQueue",
    "SupportRate",
    "SupportRelease",
    "SupportResolve",
    "SupportTransfer",
    "Sync",
    "Typing",
]


class Hello(_Frame, tag="hello"):
    """First frame on a connection: protocol version and a JWT."""

    v: int
    token: Annotated[str, msgspec.Meta(max_length=8192)]
    device: Annotated[str, msgspec.Meta(max_length=128)] = ""
    client: Annotated[str, msgspec.Meta(max_length=128)] = ""


class Ping(_Frame, tag="ping"):
    """Keep the connection alive; answered with a ``pong`` echoing ``ts`` (no ``id``)."""

    ts: int = 0


class Send(_Frame, tag="send"):
    """Store a message; answered with an ``ack`` once it is persisted.

    ``cmid`` is the idempotency key: a resend with the same ``cmid`` gets the original
    ``ack`` (``dup``) and stores nothing. Other member connections get it as ``msg``.
    """

    id: RequestId
    conv: Id
    cmid: ClientMsgId
    body: Body
    kind: SendKind = "text"
    mentions: UserList = []


class Edit(_Frame, tag="edit"):
    """Replace the body of message ``seq``. Answered with an ``ack`` for the appended ``edit`` event."""

    id: RequestId
    conv: Id
    seq: Seq
    body: Body


class Recall(_Frame, tag="recall"):
    """Tombstone message ``seq``. Answered with an ``ack`` for the appended ``recall`` event."""

    id: RequestId
    conv: Id
    seq: Seq


class Typing(_Frame, tag="typing"):
    """The user started (``on``) or stopped typing; ephemeral, no reply, members get ``typing_event``."""

    conv: Id
    on: bool = True


class Draft(_Frame, tag="draft"):
    """A message being written, streamed as it grows (e.g. an AI answer).

    Ephemeral like typing: fanned out to members, never stored. Each ``draft``
    carries the whole text so far (not a delta), so a viewer who joins midway
    or misses one frame still shows the right text. The writer finishes by
    sending the final message with ``send`` and ``cmid`` equal to ``draft``;
    viewers replace the draft with that stored message. ``done`` without a
    final message means the draft was abandoned.
    """

    conv: Id
    draft: ClientMsgId
    body: Body
    done: bool = False


class Read(_Frame, tag="read"):
    """Move the user's read position to ``seq`` (never backwards); answered with ``ok``.

    Every member connection, the reader's other devices included, gets a ``receipt``.
    """

    id: RequestId
    conv: Id
    seq: Seq


class Sync(_Frame, tag="sync"):
    """Resume from the client's positions: missed ``msg`` frames per conversation, then one ``synced``.

    At most ``limit`` messages per conversation per round; a non-empty ``after`` asks for the
    next page of conversations (the ``next`` of the previous ``synced``).
    """

    id: RequestId
    positions: Annotated[list[Position], msgspec.Meta(max_length=10000)] = []
    limit: Limit = 200
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""


class History(_Frame, tag="history"):
    """Page a conversation backwards (``before``) or forwards (``after``) by seq."""

    id: RequestId
    conv: Id
    before: Seq | None = None
    after: Seq | None = None
    limit: Limit = 50


class ConvCreate(_Frame, tag="conv_create"):
    """Create a conversation. ``direct`` returns the existing one for the pair."""

    id: RequestId
    kind: ConvKind
    members: UserList = []
    name: Name = ""
    meta: Body = {}


class ConvGet(_Frame, tag="conv_get"):
    """One conversation with its members; answered with ``conv``."""

    id: RequestId
    conv: Id


class ConvList(_Frame, tag="conv_list"):
    """A page of the user's conversations, in conversation id order."""

    id: RequestId
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""
    limit: Limit = 100


class ConvUpdate(_Frame, tag="conv_update"):
    """Change a conversation's name and/or meta (absent fields stay); answered with ``conv``."""

    id: RequestId
    conv: Id
    name: Name | None = None
    meta: Body | None = None


class MemberAdd(_Frame, tag="member_add"):
    """Add users with ``role`` (needs ``owner`` or ``admin``); answered with ``ok``."""

    id: RequestId
    conv: Id
    users: UserList
    role: Role = "member"


class MemberRemove(_Frame, tag="member_remove"):
    """Remove users (needs ``owner`` or ``admin``); answered with ``ok``."""

    id: RequestId
    conv: Id
    users: UserList


class MemberRole(_Frame, tag="member_role"):
    """Change one member's role (needs ``owner``); answered with ``ok``."""

    id: RequestId
    conv: Id
    user: UserId
    role: Role


class Leave(_Frame, tag="leave"):
    """The user leaves a conversation (a direct one cannot be left); answered with ``ok``."""

    id: RequestId
    conv: Id


class MemberList(_Frame, tag="member_list"):
    """A page of a conversation's members, by user id (membership events carry only a count)."""

    id: RequestId
    conv: Id
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""
    limit: Limit = 200


class PresenceSub(_Frame, tag="presence_sub"):
    """Subscribe to users' presence; the current state arrives as ``presence`` frames."""

    id: RequestId
    users: UserList


class PresenceUnsub(_Frame, tag="presence_unsub"):
    """Stop watching users' presence; answered with ``ok``."""

    id: RequestId
    users: UserList


# ------------------------------------------------- customer service (support)


class SupportHandoff(_Frame, tag="support_handoff"):
    """Ask for a human: ``bot`` → ``waiting_for_agent`` (by the bot or the customer)."""

    id: RequestId
    conv: Id
    reason: SupportReason = ""
    summary: Summary = ""


class SupportClaim(_Frame, tag="support_claim"):
    """An agent takes a waiting (or bot-handled) conversation: → ``agent``."""

    id: RequestId
    conv: Id


class SupportTransfer(_Frame, tag="support_transfer"):
    """The owning agent hands the conversation to another agent."""

    id: RequestId
    conv: Id
    agent: UserId


class SupportRelease(_Frame, tag="support_release"):
    """The owning agent hands the conversation back to the bot: → ``bot``."""

    id: RequestId
    conv: Id


class SupportResolve(_Frame, tag="support_resolve"):
    """→ ``resolved``; the customer is asked for a satisfaction score."""

    id: RequestId
    conv: Id


class SupportRate(_Frame, tag="support_rate"):
    """The customer's satisfaction score for a resolved conversation."""

    id: RequestId
    conv: Id
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]


class SupportQueue(_Frame, tag="support_queue"):
    """Agents: the conversations waiting for an agent, oldest first, and the caller's own."""

    id: RequestId


class SupportNote(_Frame, tag="support_note"):
    """An internal note on a support conversation: agents see it, the customer never does."""

    id: RequestId
    conv: Id
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=16000)]


class ProfileGet(_Frame, tag="profile_get"):
    """Agents and bots: a customer's profile and tags."""

    id: RequestId
    user: UserId


class ProfileTag(_Frame, tag="profile_tag"):
    """Agents and bots: add and remove tags on a customer's profile."""

    id: RequestId
    user: UserId
    add: Annotated[list[TagInput], msgspec.Meta(max_length=100)] = []
    remove: Annotated[list[TagName], msgspec.Meta(max_length=100)] = []
    #: Who decided the added tags. A bot may say ``model`` or ``rule`` (default ``bot``);
    #: an agent's tags are always ``agent``.
    source: Annotated[str, msgspec.Meta(max_length=20)] = ""
    #: Structured attributes to set on the profile (merged key by key), e.g. from an
    #: LLM's extraction: ``{"budget": 300, "purchase_intent": "high"}``.
    attributes: Body = {}
