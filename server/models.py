"""Records the services and stores exchange. Plain frozen dataclasses, no I/O.

Every record carries ``app`` (the tenant); stores key everything by it so that
nothing ever crosses apps. Times are integer milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AppPolicy",
    "App",
    "Appended",
    "Conversation",
    "KnowledgeEntry",
    "KnowledgeRevision",
    "KnowledgeVector",
    "Member",
    "NewMessage",
    "Profile",
    "StoredMessage",
    "TagRecord",
    "Ticket",
    "User",
]


@dataclass(frozen=True, slots=True)
class App:
    """A tenant: its own users, conversations and token secret; nothing crosses apps."""

    app: str
    name: str
    #: HS256 secret the app's back-end signs user tokens with.
    secret: str
    created: int


@dataclass(frozen=True, slots=True)
class User:
    """A user as the app's back-end registered it; ``last_seen``: when they last went offline (ms)."""

    app: str
    user: str
    name: str = ""
    #: ``user`` | ``agent`` | ``bot``
    role: str = "user"
    meta: dict[str, Any] = field(default_factory=dict)
    created: int = 0
    last_seen: int = 0


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation's identity and settings; ``last_seq`` is its newest message when read."""

    app: str
    conv: str
    #: ``direct`` | ``group`` | ``support``
    kind: str
    #: Random id of this conversation's stream; a changed epoch means
    #: positions from before cannot be resumed.
    epoch: str
    created: int
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    created_by: str = ""
    #: For ``direct`` only: the two user ids sorted and joined by ``"\\n"``,
    #: unique per app so that a pair has exactly one direct conversation.
    direct_key: str | None = None
    last_seq: int = 0

    @property
    def may_have_ticket(self) -> bool:
        """Whether a support ticket may belong to it: a ``support`` conversation, or a customer's direct
        conversation with the brand (``meta.official``: services/brand_support.py)."""
        return self.kind == "support" or (self.kind == "direct" and bool(self.meta.get("official")))


@dataclass(frozen=True, slots=True)
class Member:
    """One user's membership of one conversation: role, join time and read position."""

    app: str
    conv: str
    user: str
    #: ``owner`` | ``admin`` | ``member``
    role: str
    joined: int
    #: Highest seq this member has read (read receipt position).
    read_seq: int = 0


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append; the store assigns ``seq``."""

    app: str
    conv: str
    mid: str
    sender: str
    #: Client message id; ``(app, conv, sender, cmid)`` is unique.
    cmid: str
    kind: str
    body: dict[str, Any]
    ts: int
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as stored at ``seq`` of its conversation, with its current state.

    Edits and recalls are appended as records of their own; ``edited``/``recalled`` show
    their effect on the target in history reads.
    """

    app: str
    conv: str
    seq: int
    mid: str
    sender: str
    cmid: str
    kind: str
    body: dict[str, Any]
    ts: int
    mentions: tuple[str, ...] = ()
    #: Time of the last edit, 0 if never edited.
    edited: int = 0
    recalled: bool = False


@dataclass(frozen=True, slots=True)
class Appended:
    """Outcome of appending one :class:`NewMessage`.

    ``duplicate`` is true when a message with the same ``(conv, sender, cmid)``
    was already stored; ``message`` is then the original, unchanged.
    """

    message: StoredMessage
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Ticket:
    """The customer-service state of one ``support`` conversation."""

    app: str
    conv: str
    customer: str
    #: ``bot`` | ``waiting_for_agent`` | ``agent`` | ``resolved``
    state: str
    agent: str = ""
    reason: str = ""
    summary: str = ""
    #: The agents-only conversation holding internal notes ("" until the first note).
    notes_conv: str = ""
    #: Satisfaction score 1–5 given after resolve (0: none yet).
    score: int = 0
    created: int = 0
    updated: int = 0
    #: What opened the case, for agents: ``{}`` for a support conversation the customer opened;
    #: on the customer's conversation with the brand the campaign or journey message the reply
    #: answered (``kind``, ``campaign`` or ``journey``, ``variant``/``step``, ``message``, ``reply``),
    #: or the journey hand-over step (``kind: journey``, ``journey``, ``run``, ``step``).
    origin: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, str]:
        """What every member (the customer too) may know: the conversation's ``meta.support``."""
        return {"state": self.state, "agent": self.agent}


@dataclass(frozen=True, slots=True)
class TagRecord:
    """One tag on a profile, explainable: source, confidence, evidence, time, expiry."""

    name: str
    #: ``rule`` | ``model`` | ``agent`` | ``customer`` | ``bot``
    source: str
    confidence: float = 1.0
    evidence: str = ""
    ts: int = 0
    #: Expiry (ms since the epoch); 0 = never.
    expires: int = 0


@dataclass(frozen=True, slots=True)
class Profile:
    """What is known about a customer of an app: tags by name, attributes and counters."""

    app: str
    user: str
    tags: dict[str, TagRecord] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    updated: int = 0


@dataclass(frozen=True, slots=True)
class KnowledgeVector:
    """One stored embedding of a chunk: ``model``, ``view`` and float32 little-endian bytes."""

    model: str
    view: str
    vector: bytes


@dataclass(frozen=True, slots=True)
class KnowledgeRevision:
    """One change of a knowledge source: the app's knowledge ``version`` it produced, how many
    chunks the source had after it (0: deleted) and when (ms)."""

    app: str
    source: str
    version: int
    chunks: int
    ts: int


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    """One knowledge-base chunk of an app, stored opaquely for the bot service.

    The server does not interpret ``chunk`` (the bot's chunk record as a map);
    it keeps it with its vectors so that a bot process can rebuild its index
    without re-embedding.
    """

    app: str
    source: str
    chunk_id: str
    chunk: dict[str, Any]
    vectors: tuple[KnowledgeVector, ...] = ()


@dataclass(frozen=True, slots=True)
class AppPolicy:
    """An app's reach policy; ``""`` means the node's default (``Settings``)."""

    app: str
    #: ``shared`` | ``all``: whose presence a user may watch.
    presence: str = ""
    #: ``anyone`` | ``contacts``: whom a group's managers may add.
    add: str = ""
