"""Request and response bodies of the admin API (validated by msgspec; OpenAPI is generated from them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from parley.proto.frames import ConvInfo, ConvSummary, Message, ProfileInfo, TagInput
from parley.proto.ids import UserId as ProtoUserId
from parley.server.auth.identity import SYSTEM_USER

__all__ = [
    "AddMembers",
    "AddedMembers",
    "AppCreated",
    "ConversationList",
    "CreateApp",
    "CreateConversation",
    "CreateToken",
    "CreateUser",
    "MessagePage",
    "PostMessage",
    "TokenIssued",
    "UserOut",
]

#: The user-id charset of ``parley.proto.ids`` (a 422 ``invalid_request`` outside it).
UserId = ProtoUserId


class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class CreateApp(_Body):
    """A new app (tenant) named ``name``; needs the server admin key."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AppCreated(msgspec.Struct):
    """The new app: its id, its token ``secret`` (sign user tokens with it) and its first API key;
    the key is shown only here (the server keeps its digest).
    """

    app: str
    name: str
    secret: str
    api_key: str


class CreateUser(_Body):
    """Create the user, or update its name, role and meta (``created`` is kept)."""

    user: UserId
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    role: Literal["user", "agent", "bot"] = "user"
    meta: dict[str, Any] = {}


class UserOut(msgspec.Struct):
    """A user record; ``created`` and ``last_seen`` in ms since the epoch (``last_seen`` 0: never seen)."""

    user: str
    name: str
    role: str
    meta: dict[str, Any]
    created: int
    last_seen: int


class CreateToken(_Body):
    """A token for ``user``, valid ``ttl`` seconds (at most the server's ``token_max_lifetime``)."""

    user: UserId
    ttl: Annotated[int, msgspec.Meta(ge=1, le=30 * 86400)] = 3600


class TokenIssued(msgspec.Struct):
    """A signed user token (HS256 JWT) and its expiry, in seconds since the epoch."""

    token: str
    expires: int


class CreateConversation(_Body):
    """A conversation of ``kind`` with ``members``; a direct one is unique per pair (asking again
    returns the existing one).
    """

    kind: Literal["direct", "group", "support"]
    members: Annotated[list[UserId], msgspec.Meta(min_length=1, max_length=1000)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    meta: dict[str, Any] = {}
    #: Creator (group owner); defaults to the first member.
    owner: UserId | None = None


class AddMembers(_Body):
    """Users to add with ``role``; users already members are left as they are."""

    users: Annotated[list[UserId], msgspec.Meta(min_length=1, max_length=1000)]
    role: Literal["member", "admin"] = "member"


class AddedMembers(msgspec.Struct):
    """The users that were newly added (not those already members)."""

    added: list[str]


class PostMessage(_Body):
    """A message to store and deliver; a repeated ``cmid`` from the same ``sender`` returns the
    original (200) instead of storing it twice.
    """

    body: dict[str, Any]
    kind: Literal["text", "rich", "custom", "system"] = "text"
    #: Who the message is from; need not be a member (system and bot posts).
    sender: UserId = SYSTEM_USER
    cmid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    mentions: list[UserId] = []


class MessagePage(msgspec.Struct):
    """Messages ascending by seq, and whether more exist in the paging direction."""

    messages: list[Message]
    more: bool


class ConversationList(msgspec.Struct):
    """A user's conversations, with read positions, unread counts and a last-message preview."""

    conversations: list[ConvSummary]


__all__ += ["ConvInfo", "Message"]


class KnowledgeVectorIO(msgspec.Struct):
    """One embedding of a chunk: ``model`` and ``view`` name what was embedded and how."""

    chunk_id: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    view: Annotated[str, msgspec.Meta(max_length=50)]
    #: float32 little-endian, base64 in JSON.
    vector: bytes


class KnowledgeUpload(_Body):
    """The chunks of one ingested file (``chunks[].id`` required) and their vectors."""

    chunks: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=20000)]
    vectors: Annotated[list[KnowledgeVectorIO], msgspec.Meta(max_length=200000)] = []


class KnowledgeStored(msgspec.Struct):
    """The source as stored: its chunk count and the app's new knowledge version."""

    source: str
    chunks: int
    version: int


class KnowledgeVersion(msgspec.Struct):
    """The app's knowledge version: 0 before the first ingest, higher after every change."""

    version: int


class KnowledgeRevisionOut(msgspec.Struct):
    """One change of a source: the app's knowledge version it produced, the chunks after it (0: deleted), when (ms)."""

    version: int
    chunks: int
    ts: int


class KnowledgeHistory(msgspec.Struct):
    """A source's revisions, newest first (the first is what bots answer from)."""

    source: str
    revisions: list[KnowledgeRevisionOut]


class KnowledgeChunkOut(msgspec.Struct):
    """One stored chunk and the source it belongs to."""

    source: str
    chunk: dict[str, Any]


class KnowledgeDump(msgspec.Struct):
    """Every chunk and vector of the app, with the knowledge version they belong to."""

    version: int
    chunks: list[KnowledgeChunkOut]
    vectors: list[KnowledgeVectorIO]


class TagChange(_Body):
    """Tags to add (or replace, by name) and remove, and attributes to merge: applied atomically."""

    add: list[TagInput] = []
    remove: list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]] = []
    #: Recorded on each added tag: who decided it.
    source: Literal["rule", "model", "agent", "customer", "bot"] = "agent"
    #: Structured attributes merged into the profile (e.g. an LLM's extraction).
    attributes: dict[str, Any] = {}


class TicketOut(msgspec.Struct):
    """A support ticket: ``state`` (``bot``, ``waiting_for_agent``, ``agent``, ``resolved``), the owning
    ``agent``, the hand-over ``reason`` and ``summary``, the customer's ``score`` (0: not rated), and
    its ``origin`` (the campaign or journey a case on the customer's conversation with the brand came
    from; ``{}`` otherwise: docs/MARKETING.md).
    """

    conv: str
    customer: str
    state: str
    agent: str
    reason: str
    summary: str
    score: int
    created: int
    updated: int
    origin: dict[str, Any] = {}


class TicketList(msgspec.Struct):
    """Tickets, least recently updated first."""

    tickets: list[TicketOut]


class AssignAgent(_Body):
    """The agent to give the conversation to (a claim if nobody owns it, else a transfer)."""

    agent: UserId


class NoteIn(_Body):
    """An internal note by ``agent``, kept in the ticket's agents-only notes conversation."""

    agent: UserId
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=16000)]


class Handoff(_Body):
    """Why a human is asked for, and a summary for the agent (default: the last few turns)."""

    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    summary: Annotated[str, msgspec.Meta(max_length=4000)] = ""


__all__ += [
    "AssignAgent",
    "Handoff",
    "KnowledgeChunkOut",
    "NoteIn",
    "KnowledgeDump",
    "KnowledgeHistory",
    "KnowledgeRevisionOut",
    "KnowledgeStored",
    "KnowledgeUpload",
    "KnowledgeVectorIO",
    "KnowledgeVersion",
    "ProfileInfo",
    "TagChange",
    "TicketList",
    "TicketOut",
]
