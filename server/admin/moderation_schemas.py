"""Bodies of the admin API's moderation routes (see :mod:`moderation_routes` and
:mod:`words_routes`), and their OpenAPI paths (merged into ``/openapi.json`` by :mod:`openapi`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

__all__ = [
    "MODELS",
    "ApiKeyCreated",
    "ApiKeyList",
    "ApiKeyOut",
    "AuditOut",
    "AuditPage",
    "DisableUser",
    "MuteIn",
    "MuteList",
    "MuteOut",
    "RevokeTokens",
    "RotateSecret",
    "SecretRotated",
    "ResolveReview",
    "ReviewOut",
    "ReviewPage",
    "UserStatusOut",
    "WordListIn",
    "WordListOut",
    "WordLists",
    "moderation_paths",
]

Reason = Annotated[str, msgspec.Meta(max_length=500)]


class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class DisableUser(_Body):
    """Why the user is disabled (kept in the status and the audit log)."""

    reason: Reason = ""


class RevokeTokens(_Body):
    """Refuse tokens issued (``iat``) before ``before`` (seconds since the epoch); default: now,
    this second included."""

    before: Annotated[int, msgspec.Meta(ge=0, le=2**53)] | None = None


class UserStatusOut(msgspec.Struct):
    """A user's moderation status: disabled or not (and why), and the token cut-off."""

    user: str
    disabled: bool
    reason: str
    #: Tokens with an ``iat`` before this (s) are refused; 0: none.
    tokens_before: int
    #: When the status last changed (ms); 0: never.
    updated: int


class MuteIn(_Body):
    """Mute for ``seconds`` (1 … ``mute_max_seconds``)."""

    seconds: int
    reason: Reason = ""


class MuteOut(msgspec.Struct):
    """A member's mute in one conversation."""

    conv: str
    user: str
    #: End of the mute (ms since the epoch).
    until: int
    reason: str = ""


class MuteList(msgspec.Struct):
    """The mutes of a conversation that have not ended yet."""

    mutes: list[MuteOut]


class RotateSecret(_Body):
    """Seconds the replaced secret stays valid (default: the ``secret_overlap`` setting)."""

    overlap: Annotated[int, msgspec.Meta(ge=0)] | None = None


class SecretRotated(msgspec.Struct):
    #: The new token secret: sign tokens with it from now on (shown once).
    """The new token secret and until when the previous ones are still accepted."""

    secret: str
    #: Until when (ms) tokens signed with the previous secrets are still accepted.
    previous_valid_until: int


class ApiKeyOut(msgspec.Struct):
    #: The key's public id (a prefix of its SHA-256 digest).
    """One API key, named by its id (the key itself is never shown again)."""

    id: str
    created: int


class ApiKeyList(msgspec.Struct):
    """The app's API keys, oldest first."""

    keys: list[ApiKeyOut]


class ApiKeyCreated(msgspec.Struct):
    """A new API key, in clear, shown only here; ``id`` names it in listings and revocations."""

    id: str
    #: The new key (shown once).
    api_key: str


class AuditOut(msgspec.Struct):
    #: Record id; pass the last one as ``after`` for the next page.
    """One audit record: who did what to which target, when (ms), with details."""

    id: str
    ts: int
    #: Who acted: ``key:<api key id>``.
    actor: str
    action: str
    target: str
    detail: dict[str, Any] = {}


class AuditPage(msgspec.Struct):
    """Audit records in id (time) order, and whether more follow."""

    records: list[AuditOut]
    more: bool = False


class WordListIn(_Body):
    """Replace the list: ``action`` ``refuse`` | ``mask`` | ``flag``; ``words`` Chinese or English."""

    action: str
    words: Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=100_000)]


class WordListOut(msgspec.Struct):
    """A sensitive-word list: its ``action`` and words; ``updated`` in ms."""

    name: str
    action: str
    words: list[str]
    updated: int


class WordLists(msgspec.Struct):
    """The app's word lists, by name."""

    lists: list[WordListOut]


class ReviewOut(msgspec.Struct):
    """An item of the review queue: the reported or flagged content and how it was resolved."""

    id: str
    #: ``report`` (a user reported it) or ``filter`` (a ``flag`` word list matched).
    source: str
    conv: str
    #: The message (0: the conversation's name or meta).
    seq: int
    author: str
    reporter: str
    reason: str
    excerpt: str
    ts: int
    state: str
    outcome: str = ""
    resolved_by: str = ""
    resolved_at: int = 0


class ReviewPage(msgspec.Struct):
    """Review items in id (time) order, and whether more follow."""

    items: list[ReviewOut]
    more: bool = False


class ResolveReview(_Body):
    """``dismiss`` (nothing wrong), ``recall`` (tombstone the message for everyone) or
    ``actioned`` (handled otherwise, e.g. the user was disabled)."""

    outcome: str
    note: Reason = ""


MODELS: list[Any] = [
    DisableUser,
    RevokeTokens,
    UserStatusOut,
    MuteIn,
    MuteOut,
    MuteList,
    RotateSecret,
    SecretRotated,
    ApiKeyOut,
    ApiKeyList,
    ApiKeyCreated,
    AuditOut,
    AuditPage,
    WordListIn,
    WordListOut,
    WordLists,
    ReviewOut,
    ReviewPage,
    ResolveReview,
]


def moderation_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the moderation routes, built with :mod:`openapi`'s ``_op``."""
    u, c = ("user",), ("conv", "user")
    return {
        "/v1/users/{user}/status": {"get": op("A user's moderation status", 200, UserStatusOut, params=u)},
        "/v1/users/{user}/disable": {
            "post": op("Disable (ban) a user: close their connections, refuse their tokens", 200,
                       UserStatusOut, DisableUser, params=u)
        },
        "/v1/users/{user}/enable": {"post": op("Re-enable a disabled user", 200, UserStatusOut, params=u)},
        "/v1/users/{user}/revoke-tokens": {
            "post": op("Refuse the user's tokens issued before a time", 200, UserStatusOut, RevokeTokens,
                       params=u)
        },
        "/v1/conversations/{conv}/mutes": {
            "get": op("Current mutes of a conversation", 200, MuteList, params=("conv",))
        },
        "/v1/conversations/{conv}/mutes/{user}": {
            "put": op("Mute a member for a while", 200, MuteOut, MuteIn, params=c),
            "delete": op("Lift a mute", 204, None, params=c),
        },
        "/v1/secret/rotate": {
            "post": op("Rotate the app's token secret (old one kept for an overlap)", 200, SecretRotated,
                       RotateSecret)
        },
        "/v1/keys": {
            "get": op("The app's API keys", 200, ApiKeyList),
            "post": op("Create another API key", 201, ApiKeyCreated),
        },
        "/v1/keys/{key}": {"delete": op("Revoke an API key", 204, None, params=("key",))},
        "/v1/audit": {"get": op("The audit log of every change (?after=<id>, ?limit=, ?actor=, ?action=<prefix>, "
                                "?target=, ?since=<ms>, ?until=<ms>)", 200, AuditPage)},
        "/v1/words": {"get": op("The app's sensitive-word lists", 200, WordLists)},
        "/v1/words/{name}": {
            "put": op("Create or replace a word list", 200, WordListOut, WordListIn, params=("name",)),
            "delete": op("Delete a word list", 204, None, params=("name",)),
        },
        "/v1/reviews": {"get": op("The review queue (?state=open|resolved, ?after=<id>, ?limit=)", 200, ReviewPage)},
        "/v1/reviews/{id}/resolve": {
            "post": op("Resolve a review item", 200, ReviewOut, ResolveReview, params=("id",))
        },
    }  # fmt: skip
