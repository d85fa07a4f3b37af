"""Moderation calls of :class:`~parley.sdk.admin.AdminClient` (the app's back-end acting on
users): disable and re-enable users, revoke their tokens, mute members, rotate the token
secret, manage API keys, manage the sensitive-word lists and work the review queue (user
reports and flagged content) — and read the audit log every one of these actions writes.

What each does to live users: a disabled user's connections close with 4010
(``CloseCode.USER_DISABLED``, the SDK does not reconnect) and their tokens are refused
(``user_disabled``) until :meth:`enable_user`; revoked tokens close their connections with
4011 (``CloseCode.TOKEN_REVOKED``: a client with ``get_token`` fetches a new token and
reconnects); a muted member's writes fail with ``ReplyError`` code ``muted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = [
    "ApiKey",
    "AuditPage",
    "AuditRecord",
    "ModerationOps",
    "Mute",
    "NewApiKey",
    "ReviewItem",
    "ReviewPage",
    "RotatedSecret",
    "UserStatus",
    "WordList",
]


@dataclass(frozen=True, slots=True)
class UserStatus:
    """A user's moderation status: ``tokens_before`` in seconds, ``updated`` in ms."""

    user: str
    disabled: bool = False
    reason: str = ""
    tokens_before: int = 0
    updated: int = 0


@dataclass(frozen=True, slots=True)
class Mute:
    """``user`` may not write into ``conv`` until ``until`` (ms since the epoch)."""

    conv: str
    user: str
    until: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    """The new token secret, and until when (ms) tokens signed with earlier ones are accepted."""

    secret: str
    previous_valid_until: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key's public id and creation time (ms); the key itself is never shown again."""

    id: str
    created: int = 0


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly created API key (``api_key`` is shown once) and its id."""

    id: str
    api_key: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One moderation action: ``actor`` (``key:<id>``) did ``action`` to ``target`` at ``ts`` (ms)."""

    id: str
    ts: int
    actor: str
    action: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """Audit records in time order; pass the last ``id`` as ``after`` while ``more``."""

    records: tuple[AuditRecord, ...]
    more: bool = False


@dataclass(frozen=True, slots=True)
class WordList:
    """A sensitive-word list: ``action`` is ``refuse``, ``mask`` or ``flag``."""

    name: str
    action: str
    words: list[str]
    updated: int = 0


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """An item of the review queue: a user's ``report`` or content a ``flag`` list matched
    (``source`` ``filter``); ``seq`` 0 means a conversation's name or meta."""

    id: str
    source: str
    conv: str
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


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """Review items, oldest first; pass the last ``id`` as ``after`` while ``more``."""

    items: tuple[ReviewItem, ...]
    more: bool = False


def _review(r: dict[str, Any]) -> ReviewItem:
    return ReviewItem(
        str(r["id"]), str(r["source"]), str(r["conv"]), int(r["seq"]), str(r["author"]),
        str(r.get("reporter") or ""), str(r.get("reason") or ""), str(r.get("excerpt") or ""),
        int(r["ts"]), str(r["state"]), str(r.get("outcome") or ""), str(r.get("resolved_by") or ""),
        int(r.get("resolved_at") or 0),
    )  # fmt: skip


def _seg(value: str) -> str:
    return quote(value, safe="")


def _status(data: dict[str, Any]) -> UserStatus:
    return UserStatus(
        str(data["user"]),
        bool(data.get("disabled")),
        str(data.get("reason") or ""),
        int(data.get("tokens_before") or 0),
        int(data.get("updated") or 0),
    )


def _mute(data: dict[str, Any]) -> Mute:
    return Mute(str(data["conv"]), str(data["user"]), int(data["until"]), str(data.get("reason") or ""))


class ModerationOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def user_status(self, user: str) -> UserStatus:
        """Whether ``user`` is disabled, and since when their tokens are revoked."""
        return _status(await self._call("GET", f"/v1/users/{_seg(user)}/status"))

    async def disable_user(self, user: str, *, reason: str = "") -> UserStatus:
        """Ban ``user``: close their connections on every node now, refuse their tokens."""
        return _status(await self._call("POST", f"/v1/users/{_seg(user)}/disable", json={"reason": reason}))

    async def enable_user(self, user: str) -> UserStatus:
        """Lift a ban."""
        return _status(await self._call("POST", f"/v1/users/{_seg(user)}/enable", json={}))

    async def revoke_tokens(self, user: str, *, before: int | None = None) -> UserStatus:
        """Refuse ``user``'s tokens issued before ``before`` (seconds; default now, this second
        included) and close the connections made with them."""
        payload = {} if before is None else {"before": before}
        return _status(await self._call("POST", f"/v1/users/{_seg(user)}/revoke-tokens", json=payload))

    async def mute(self, conv: str, user: str, *, seconds: int, reason: str = "") -> Mute:
        """Refuse ``user``'s writes into ``conv`` for ``seconds``."""
        payload = {"seconds": seconds, "reason": reason}
        return _mute(
            await self._call("PUT", f"/v1/conversations/{_seg(conv)}/mutes/{_seg(user)}", json=payload)
        )

    async def unmute(self, conv: str, user: str) -> None:
        """Lift a mute (``AdminError`` 404 if there is none)."""
        await self._call("DELETE", f"/v1/conversations/{_seg(conv)}/mutes/{_seg(user)}")

    async def mutes(self, conv: str) -> list[Mute]:
        """The mutes of ``conv`` that have not ended."""
        data = await self._call("GET", f"/v1/conversations/{_seg(conv)}/mutes")
        return [_mute(m) for m in data.get("mutes") or []]

    async def rotate_secret(self, *, overlap: int | None = None) -> RotatedSecret:
        """A new token secret; earlier ones stay valid ``overlap`` seconds (server default if None)."""
        payload = {} if overlap is None else {"overlap": overlap}
        data = await self._call("POST", "/v1/secret/rotate", json=payload)
        return RotatedSecret(str(data["secret"]), int(data["previous_valid_until"]))

    async def api_keys(self) -> list[ApiKey]:
        """The app's API keys, oldest first."""
        data = await self._call("GET", "/v1/keys")
        return [ApiKey(str(k["id"]), int(k.get("created") or 0)) for k in data.get("keys") or []]

    async def create_api_key(self) -> NewApiKey:
        """Another API key (for example to replace this one, then revoke it)."""
        data = await self._call("POST", "/v1/keys", json={})
        return NewApiKey(str(data["id"]), str(data["api_key"]))

    async def revoke_api_key(self, key_id: str) -> None:
        """Revoke the API key with id ``key_id``: refused at once on every node."""
        await self._call("DELETE", f"/v1/keys/{_seg(key_id)}")

    async def audit(
        self,
        *,
        after: str = "",
        limit: int = 100,
        actor: str = "",
        action: str = "",
        target: str = "",
        since: int = 0,
        until: int = 0,
    ) -> AuditPage:
        """A page of the audit log, oldest first, after the record id ``after``; only ``actor``'s /
        on ``target`` (exact), actions starting with ``action``, with ``since <= ts < until`` (ms)."""
        params: dict[str, Any] = {"after": after, "limit": limit, "actor": actor, "action": action,
                                  "target": target, "since": since, "until": until}  # fmt: skip
        data = await self._call(
            "GET", "/v1/audit", params={k: v for k, v in params.items() if v or k == "after"}
        )
        records = tuple(
            AuditRecord(
                str(r["id"]), int(r["ts"]), str(r["actor"]), str(r["action"]), str(r["target"]),
                dict(r.get("detail") or {}),
            )
            for r in data.get("records") or []
        )  # fmt: skip
        return AuditPage(records, bool(data.get("more")))

    # ------------------------------------------------------ words and reviews

    async def word_lists(self) -> list[WordList]:
        """The app's sensitive-word lists, by name."""
        data = await self._call("GET", "/v1/words")
        return [
            WordList(
                str(w["name"]), str(w["action"]), [str(x) for x in w["words"]], int(w.get("updated") or 0)
            )
            for w in data.get("lists") or []
        ]

    async def put_word_list(self, name: str, *, action: str, words: list[str]) -> WordList:
        """Create or replace list ``name``: ``action`` ``refuse`` | ``mask`` | ``flag``."""
        w = await self._call("PUT", f"/v1/words/{_seg(name)}", json={"action": action, "words": words})
        return WordList(
            str(w["name"]), str(w["action"]), [str(x) for x in w["words"]], int(w.get("updated") or 0)
        )

    async def delete_word_list(self, name: str) -> None:
        """Delete list ``name``."""
        await self._call("DELETE", f"/v1/words/{_seg(name)}")

    async def reviews(self, *, state: str = "open", after: str = "", limit: int = 100) -> ReviewPage:
        """A page of the review queue (``state`` ``open`` or ``resolved``), oldest first."""
        data = await self._call("GET", "/v1/reviews", params={"state": state, "after": after, "limit": limit})
        return ReviewPage(tuple(_review(r) for r in data.get("items") or []), bool(data.get("more")))

    async def resolve_review(self, review_id: str, *, outcome: str, note: str = "") -> ReviewItem:
        """Close an item: ``dismiss``, ``recall`` (the message is recalled for everyone) or ``actioned``."""
        payload = {"outcome": outcome, "note": note}
        return _review(await self._call("POST", f"/v1/reviews/{_seg(review_id)}/resolve", json=payload))
