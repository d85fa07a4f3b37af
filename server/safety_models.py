"""Records of the abuse controls: blocks, moderation, audit, word lists, reports.

Plain frozen dataclasses like :mod:`parley.server.models`; every record carries
``app`` (the tenant). Times are integer milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.proto.vocabulary import ReviewState

__all__ = [
    "ApiKeyRecord",
    "AuditRecord",
    "BlockRecord",
    "Mute",
    "RetiredSecret",
    "ReviewItem",
    "UserStatus",
    "WordList",
]


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """``blocker`` blocked ``blocked`` (one way) at ``created``."""

    app: str
    blocker: str
    blocked: str
    created: int


@dataclass(frozen=True, slots=True)
class UserStatus:
    """What the app's moderators decided about a user.

    ``disabled``: every connection is refused (``user_disabled``) until re-enabled.
    ``tokens_before``: tokens whose ``iat`` (seconds) is earlier are refused (``token_revoked``).
    """

    app: str
    user: str
    disabled: bool = False
    reason: str = ""
    tokens_before: int = 0
    updated: int = 0


@dataclass(frozen=True, slots=True)
class Mute:
    """``user`` may not write into ``conv`` until ``until`` (ms)."""

    app: str
    conv: str
    user: str
    until: int
    reason: str = ""
    created: int = 0


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One moderation action: ``actor`` (e.g. ``key:<id>``) did ``action`` to ``target``.

    ``id`` sorts in time order (it starts with the zero-padded ``ts``), so it is the cursor."""

    app: str
    id: str
    ts: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetiredSecret:
    """A replaced token secret of ``app``, still accepted until ``until`` (ms)."""

    app: str
    secret: str
    until: int


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key of ``app`` as stored: its SHA-256 digest, never the key."""

    app: str
    key_hash: str
    created: int


@dataclass(frozen=True, slots=True)
class WordList:
    """One of an app's sensitive-word lists: ``action`` is ``refuse``, ``mask`` or ``flag``."""

    app: str
    name: str
    action: str
    words: list[str]
    updated: int = 0


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """An entry of the app's review queue: a user's report of a message, or content the word
    filter flagged (``source`` ``report`` | ``filter``). ``key`` makes entries unique
    (one report per reporter and message). ``seq`` is 0 for content that is no message
    (a conversation's name or meta). ``id`` sorts by time: it is the listing's cursor."""

    app: str
    id: str
    key: str
    conv: str = ""
    seq: int = 0
    #: Who wrote the content.
    author: str = ""
    source: str = "report"
    #: Who reported it ("" for the filter).
    reporter: str = ""
    reason: str = ""
    #: A short piece of the content, for the moderator.
    excerpt: str = ""
    ts: int = 0
    #: ``open`` | ``resolved``
    state: str = ReviewState.OPEN
    outcome: str = ""
    resolved_by: str = ""
    resolved_at: int = 0
