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
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AppCreated(msgspec.Struct):
    app: str
    name: str
    secret: str
    api_key: str


class CreateUser(_Body):
    user: UserId
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    role: Literal["user", "agent", "bot"] = "user"
    meta: dict[str, Any] = {}


class UserOut(msgspec.Struct):
    user: str
    name: str
    role: str
    meta: dict[str, Any]
    created: int
    last_seen: int


class CreateToken(_Body):
    user: UserId
    ttl: Annotated[int, msgspec.Meta(ge=1, le=30 * 86400)] = 3600


class TokenIssued(msgspec.Struct):
    token: str
    expires: int


class CreateConversation(_Body):
    kind: Literal["direct", "group", "support"]
    members: Annotated[list[UserId], msgspec.Meta(min_length=1, max_length=1000)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    meta: dict[str, Any] = {}
    #: Creator (group owner); defaults to the first member.
    owner: UserId | None = None


class AddMembers(_Body):
    users: Annotated[list[UserId], msgspec.Meta(min_length=1, max_length=1000)]
    role: Literal["member", "admin"] = "member"


class AddedMembers(msgspec.Struct):
    added: list[str]


class PostMessage(_Body):
    body: dict[str, Any]
    kind: Literal["text", "rich", "custom", "system"] = "text"
    #: Who the message is from; need not be a member (system and bot posts).
    sender: UserId = SYSTEM_USER
    cmid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    mentions: list[UserId] = []


class MessagePage(msgspec.Struct):
    messages: list[Message]
    more: bool


class ConversationList(msgspec.Struct):
    conversations: list[ConvSummary]


__all__ += ["ConvInfo", "Message"]


class KnowledgeVectorIO(msgspec.Struct):
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
    source: str
    chunks: int
    version: int


class KnowledgeVersion(msgspec.Struct):
    version: int


class KnowledgeChunkOut(msgspec.Struct):
    source: str
    chunk: dict[str, Any]


class KnowledgeDump(msgspec.Struct):
    version: int
    chunks: list[KnowledgeChunkOut]
    vectors: list[KnowledgeVectorIO]


class TagChange(_Body):
    add: list[TagInput] = []
    remove: list[Annotated[str, msgspec.Meta(min_length=1, max_length=100)]] = []
    #: Recorded on each added tag: who decided it.
    source: Literal["rule", "model", "agent", "customer", "bot"] = "agent"
    #: Structured attributes merged into the profile (e.g. an LLM's extraction).
    attributes: dict[str, Any] = {}


class TicketOut(msgspec.Struct):
    conv: str
    customer: str
    state: str
    agent: str
    reason: str
    summary: str
    score: int
    created: int
    updated: int


class TicketList(msgspec.Struct):
    tickets: list[TicketOut]


class AssignAgent(_Body):
    agent: UserId


class NoteIn(_Body):
    agent: UserId
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=16000)]


class Handoff(_Body):
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    summary: Annotated[str, msgspec.Meta(max_length=4000)] = ""


__all__ += [
    "AssignAgent",
    "Handoff",
    "KnowledgeChunkOut",
    "NoteIn",
    "KnowledgeDump",
    "KnowledgeStored",
    "KnowledgeUpload",
    "KnowledgeVectorIO",
    "KnowledgeVersion",
    "ProfileInfo",
    "TagChange",
    "TicketList",
    "TicketOut",
]
