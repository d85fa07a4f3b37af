"""Every frame of the Parley wire protocol, defined once.

A frame is a MessagePack map whose ``"t"`` key names its type; the other keys
are the fields below. Fields with defaults may be omitted on the wire (and are
omitted by the encoder when they hold their default). Unknown keys are ignored
so that newer peers can add optional fields without breaking older ones.

Requests from the client carry an ``id`` (a client-chosen integer); the
server's reply — a typed result or an ``error`` frame — carries the same ``id``.
Timestamps are integer milliseconds since the Unix epoch.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from parley.proto.ids import UserId

__all__ = [
    "ProfileResult",
    "ProfileInfo",
    "ProfileTag",
    "ProfileGet",
    "Tag",
    "TagInput",
    "SupportList",
    "SupportNote",
    "SupportQueue",
    "SupportRate",
    "SupportResolve",
    "SupportRelease",
    "SupportTransfer",
    "SupportClaim",
    "SupportHandoff",
    "PROTOCOL_VERSION",
    "SUPPORTED_VERSIONS",
    "Ack",
    "Bye",
    "ClientFrame",
    "ConvCreate",
    "ConvEvent",
    "ConvGet",
    "ConvInfo",
    "ConvList",
    "ConvListResult",
    "ConvResult",
    "ConvSummary",
    "ConvUpdate",
    "Draft",
    "DraftEvent",
    "Edit",
    "Error",
    "Hello",
    "History",
    "Leave",
    "MemberAdd",
    "MemberInfo",
    "MemberList",
    "MemberPage",
    "MemberRemove",
    "MemberRole",
    "Message",
    "Msg",
    "Ok",
    "Page",
    "Ping",
    "Pong",
    "Position",
    "Presence",
    "PresenceSub",
    "PresenceUnsub",
    "Read",
    "Receipt",
    "Recall",
    "Resync",
    "Send",
    "ServerFrame",
    "Sync",
    "SyncState",
    "Synced",
    "Typing",
    "TypingEvent",
    "Welcome",
    # proto/frames_safety.py
    "Block",
    "BlockInfo",
    "BlockList",
    "Blocks",
    "Unblock",
    "Report",
]

#: The protocol version this code speaks.
PROTOCOL_VERSION = 1
#: Versions the server accepts in ``hello``.
SUPPORTED_VERSIONS = frozenset({1})

RequestId = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
ClientMsgId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
UserList = Annotated[list[UserId], msgspec.Meta(max_length=1000)]
Body = dict[str, Any]
ConvKind = Literal["direct", "group", "support"]
#: Kinds a client may send. The server adds ``system``, ``edit`` and ``recall``.
SendKind = Literal["text", "rich", "custom"]
Role = Literal["owner", "admin", "member"]


class _Frame(msgspec.Struct, tag_field="t", omit_defaults=True, kw_only=True):
    """Base of every frame."""


class _Record(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A map nested inside frames (no ``t`` key)."""


# --------------------------------------------------------------- shared records


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
    user: str
    role: str
    read: int = 0


class ConvInfo(_Record):
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


# ---------------------------------------------------------- client -> server


class Hello(_Frame, tag="hello"):
    """First frame on a connection: protocol version and a JWT."""

    v: int
    token: Annotated[str, msgspec.Meta(max_length=8192)]
    device: Annotated[str, msgspec.Meta(max_length=128)] = ""
    client: Annotated[str, msgspec.Meta(max_length=128)] = ""


class Ping(_Frame, tag="ping"):
    ts: int = 0


class Send(_Frame, tag="send"):
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
    id: RequestId
    conv: Id
    seq: Seq


class Sync(_Frame, tag="sync"):
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
    id: RequestId
    conv: Id


class ConvList(_Frame, tag="conv_list"):
    """A page of the user's conversations, in conversation id order."""

    id: RequestId
    after: Annotated[str, msgspec.Meta(max_length=128)] = ""
    limit: Limit = 100


class ConvUpdate(_Frame, tag="conv_update"):
    id: RequestId
    conv: Id
    name: Name | None = None
    meta: Body | None = None


class MemberAdd(_Frame, tag="member_add"):
    id: RequestId
    conv: Id
    users: UserList
    role: Role = "member"


class MemberRemove(_Frame, tag="member_remove"):
    id: RequestId
    conv: Id
    users: UserList


class MemberRole(_Frame, tag="member_role"):
    id: RequestId
    conv: Id
    user: UserId
    role: Role


class Leave(_Frame, tag="leave"):
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
    id: RequestId
    users: UserList


# ------------------------------------------------- customer service (support)

SupportReason = Annotated[str, msgspec.Meta(max_length=200)]
Summary = Annotated[str, msgspec.Meta(max_length=4000)]
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


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


class TagInput(_Record):
    name: TagName
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    #: Seconds until the tag expires; 0 = never.
    ttl: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: Message id the tag was derived from.
    evidence: Annotated[str, msgspec.Meta(max_length=128)] = ""


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


# ---------------------------------------------------------- server -> client


class Welcome(_Frame, tag="welcome"):
    """Authentication succeeded. ``heartbeat_ms``: send ``ping`` at least this often (milliseconds);
    ``max_frame``: the largest frame (bytes) the server accepts."""

    v: int
    session: str
    app: str
    user: str
    node: str
    ts: int
    heartbeat_ms: int
    max_frame: int


class Pong(_Frame, tag="pong"):
    ts: int = 0


class Ack(_Frame, tag="ack"):
    """The message is persisted. ``dup`` marks a resend answered with the original ack."""

    id: int
    conv: str
    cmid: str
    mid: str
    seq: int
    ts: int
    dup: bool = False
    #: The stored body when the server changed it (the app's sensitive words masked); absent
    #: when it is the body that was sent.
    body: Body | None = None


class Msg(_Frame, tag="msg"):
    """A message pushed to a member (also used for ``sync`` catch-up).

    It carries no epoch: clients learn a conversation's epoch from ``synced``,
    ``conv_event`` and ``conv`` replies.
    """

    m: Message


class Receipt(_Frame, tag="receipt"):
    conv: str
    user: str
    seq: int


class TypingEvent(_Frame, tag="typing_event"):
    conv: str
    user: str
    on: bool = True


class DraftEvent(_Frame, tag="draft_event"):
    """Another member's draft grew (see :class:`Draft`)."""

    conv: str
    user: str
    draft: str
    body: Body
    done: bool = False


class Presence(_Frame, tag="presence"):
    user: str
    online: bool
    last_seen: int = 0


class ConvEvent(_Frame, tag="conv_event"):
    """The user joined, left or saw a change to a conversation.

    On ``joined``, ``conv.last_seq`` is the join point: the member receives
    messages after it live; earlier ones (such as a new group's ``created``
    event) are history.
    """

    #: ``joined`` | ``left`` | ``updated`` — an open string, so new events never break old clients.
    event: str
    conv: ConvInfo


class Ok(_Frame, tag="ok"):
    id: int


class ConvResult(_Frame, tag="conv"):
    id: int
    conv: ConvInfo


class ConvListResult(_Frame, tag="convs"):
    id: int
    convs: list[ConvSummary]
    more: bool = False


class MemberPage(_Frame, tag="members"):
    id: int
    conv: str
    members: list[MemberInfo]
    more: bool = False


class Page(_Frame, tag="page"):
    id: int
    conv: str
    messages: list[Message]
    more: bool = False


class Synced(_Frame, tag="synced"):
    id: int
    convs: list[SyncState]
    next: str = ""


class SupportList(_Frame, tag="support_list"):
    """Reply to ``support_queue``: ``waiting`` oldest first, and the agent's ``mine``."""

    id: int
    waiting: list[ConvInfo]
    mine: list[ConvInfo] = []


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
    user: str
    tags: list[Tag] = []
    attributes: Body = {}
    counters: dict[str, int] = {}


class ProfileResult(_Frame, tag="profile"):
    id: int
    profile: ProfileInfo


class Error(_Frame, tag="error"):
    """A refused request (``id`` set) or a connection-level problem (``id`` absent)."""

    code: str
    message: str
    action: str
    id: int | None = None


class Resync(_Frame, tag="resync"):
    """Live delivery may have missed messages (e.g. the broker had an outage):
    send ``sync`` for ``convs``, or for every conversation if ``convs`` is empty."""

    convs: list[str] = []


class Bye(_Frame, tag="bye"):
    """The server is closing this connection; reconnect after ``reconnect_ms``."""

    reason: str
    reconnect_ms: int = 0


# The abuse-control frames live in their own module (on this module's bases, defined above).
from parley.proto.frames_safety import Block, BlockInfo, BlockList, Blocks, Report, Unblock  # noqa: E402

ClientFrame = (
    Hello
    | Ping
    | Send
    | Edit
    | Recall
    | Typing
    | Draft
    | Read
    | Sync
    | History
    | ConvCreate
    | ConvGet
    | ConvList
    | ConvUpdate
    | MemberAdd
    | MemberRemove
    | MemberRole
    | Leave
    | MemberList
    | PresenceSub
    | PresenceUnsub
    | SupportHandoff
    | SupportClaim
    | SupportTransfer
    | SupportRelease
    | SupportResolve
    | SupportRate
    | SupportQueue
    | SupportNote
    | ProfileGet
    | ProfileTag
    | Block
    | Unblock
    | BlockList
    | Report
)

ServerFrame = (
    Welcome
    | Pong
    | Ack
    | Msg
    | Receipt
    | TypingEvent
    | DraftEvent
    | Presence
    | ConvEvent
    | Ok
    | ConvResult
    | ConvListResult
    | Page
    | MemberPage
    | Synced
    | SupportList
    | ProfileResult
    | Error
    | Resync
    | Bye
    | Blocks
)
