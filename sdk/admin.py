"""Server-to-server client for the HTTP admin API (for your back-end, never for apps).

::

    async with AdminClient("http://localhost:8700", api_key) as admin:
        await admin.create_user("alice", name="Alice")
        token = (await admin.create_token("alice", ttl=3600)).token
        conv = await admin.create_conversation("group", ["alice", "bob"], name="Team")
        await admin.send(conv.conv, {"text": "welcome!"})

Every call raises :class:`~parley.sdk.errors.AdminError` (HTTP status, Parley
error code, detail) when the server answers with a problem document: its
subclass :class:`~parley.sdk.errors.BodyTooLarge` for a 413 (the body is over the
server's limit) and :class:`~parley.sdk.errors.RateLimited` for a 429 (with
``retry_after`` seconds from ``Retry-After``; the client never retries by itself).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from parley.proto import frames as f
from parley.sdk.admin_audience import AudienceOps
from parley.sdk.admin_compliance import ComplianceOps
from parley.sdk.admin_events import EventOps
from parley.sdk.admin_journeys import JourneyOps
from parley.sdk.admin_knowledge import KnowledgeChunk, KnowledgeOps, KnowledgeSnapshot, KnowledgeVectorRecord
from parley.sdk.admin_leases import LeaseOps
from parley.sdk.admin_marketing import MarketingOps
from parley.sdk.admin_moderation import ModerationOps
from parley.sdk.admin_policy import PolicyOps
from parley.sdk.admin_segments import SegmentsOps
from parley.sdk.errors import AdminError, admin_error
from parley.sdk.models import Conversation, ConversationSummary, Message
from parley.sdk.support import Profile, Tag, TagSpec

__all__ = [
    "AdminClient",
    "KnowledgeChunk",
    "KnowledgeSnapshot",
    "KnowledgeVectorRecord",
    "MessagePage",
    "Token",
    "User",
]


@dataclass(frozen=True, slots=True)
class User:
    """A user record: ``role`` is user, agent or bot; times in ms since the epoch."""

    user: str
    name: str = ""
    role: str = "user"
    meta: dict[str, Any] = field(default_factory=dict)
    created: int = 0
    last_seen: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        """Build from the admin API's JSON."""
        return cls(
            user=str(data["user"]),
            name=str(data.get("name") or ""),
            role=str(data.get("role") or "user"),
            meta=dict(data.get("meta") or {}),
            created=int(data.get("created") or 0),
            last_seen=int(data.get("last_seen") or 0),
        )


@dataclass(frozen=True, slots=True)
class Token:
    """A user token and its expiry (seconds since the epoch)."""

    token: str
    expires: int


@dataclass(frozen=True, slots=True)
class MessagePage:
    """Messages in ascending seq order; ``more`` means the range holds more."""

    messages: tuple[Message, ...]
    more: bool = False


class AdminClient(
    ModerationOps,
    PolicyOps,
    KnowledgeOps,
    AudienceOps,
    EventOps,
    SegmentsOps,
    MarketingOps,
    JourneyOps,
    ComplianceOps,
    LeaseOps,
):
    """Async client for the admin API at ``base_url`` (e.g. ``http://host:8700``), keyed by ``api_key``.

    Use as ``async with AdminClient(...) as admin:`` or call :meth:`aclose`.
    Pass ``transport`` to route requests elsewhere (tests, proxies).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AdminClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    # ------------------------------------------------------------------ users

    async def create_user(
        self,
        user: str,
        *,
        name: str | None = None,
        role: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> User:
        """Create or update ``user`` (``role``: user, agent or bot); returns the user record."""
        payload = _drop_none({"user": user, "name": name, "role": role, "meta": meta})
        return User.from_json(_as_dict(await self._call("POST", "/v1/users", json=payload)))

    async def get_user(self, user: str) -> User:
        """The user record of ``user``."""
        return User.from_json(_as_dict(await self._call("GET", f"/v1/users/{user}")))

    async def create_token(self, user: str, *, ttl: int | None = None) -> Token:
        """Sign a token for ``user`` valid ``ttl`` seconds (server default if None)."""
        data = _as_dict(await self._call("POST", "/v1/tokens", json=_drop_none({"user": user, "ttl": ttl})))
        return Token(str(data["token"]), int(data["expires"]))

    async def user_conversations(self, user: str) -> list[ConversationSummary]:
        """``user``'s conversations with unread counts."""
        data = await self._call("GET", f"/v1/users/{user}/conversations")
        rows = data.get("conversations", data.get("convs", [])) if isinstance(data, dict) else data
        return [_summary(row) for row in rows or []]

    async def send_to_user(
        self,
        user: str,
        body: dict[str, Any],
        *,
        kind: str | None = None,
        sender: str | None = None,
        cmid: str | None = None,
    ) -> Message:
        """Send to ``user`` in the direct conversation between ``sender`` (default system) and them."""
        payload = _drop_none({"kind": kind, "body": body, "sender": sender, "cmid": cmid})
        return Message.from_json(
            _as_dict(await self._call("POST", f"/v1/users/{user}/messages", json=payload))
        )

    # ---------------------------------------------------------- conversations

    async def create_conversation(
        self,
        kind: str,
        members: Iterable[str],
        *,
        name: str | None = None,
        meta: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> Conversation:
        """Create a ``direct``, ``group`` or ``support`` conversation."""
        payload = _drop_none(
            {"kind": kind, "members": list(members), "name": name, "meta": meta, "owner": owner}
        )
        return Conversation.from_json(_as_dict(await self._call("POST", "/v1/conversations", json=payload)))

    async def get_conversation(self, conv: str) -> Conversation:
        """Details and members of ``conv``."""
        return Conversation.from_json(_as_dict(await self._call("GET", f"/v1/conversations/{conv}")))

    async def add_members(self, conv: str, users: Iterable[str], *, role: str | None = None) -> list[str]:
        """Add ``users`` to ``conv``; returns those who were not members yet."""
        payload = _drop_none({"users": list(users), "role": role})
        data = await self._call("POST", f"/v1/conversations/{conv}/members", json=payload)
        added = data.get("added") if isinstance(data, dict) else None
        return [str(u) for u in added] if isinstance(added, list) else []

    async def remove_member(self, conv: str, user: str) -> None:
        """Remove ``user`` from ``conv``."""
        await self._call("DELETE", f"/v1/conversations/{conv}/members/{user}")

    async def send(
        self,
        conv: str,
        body: dict[str, Any],
        *,
        kind: str | None = None,
        sender: str | None = None,
        cmid: str | None = None,
        mentions: Iterable[str] | None = None,
    ) -> Message:
        """Store a message in ``conv`` (as ``sender``, default system); idempotent on ``cmid``."""
        payload = _drop_none(
            {
                "kind": kind,
                "body": body,
                "sender": sender,
                "cmid": cmid,
                "mentions": list(mentions) if mentions is not None else None,
            }
        )
        data = await self._call("POST", f"/v1/conversations/{conv}/messages", json=payload)
        return Message.from_json(_as_dict(data))

    async def messages(
        self, conv: str, *, after: int | None = None, before: int | None = None, limit: int | None = None
    ) -> MessagePage:
        """A page of ``conv``'s messages in a seq range."""
        params = _drop_none({"after": after, "before": before, "limit": limit})
        data = _as_dict(await self._call("GET", f"/v1/conversations/{conv}/messages", params=params))
        return MessagePage(
            tuple(Message.from_json(m) for m in data.get("messages", [])), bool(data.get("more"))
        )

    async def export(self, conv: str) -> AsyncIterator[Message]:
        """Every message of ``conv`` in seq order, streamed from the NDJSON export."""
        async with self._http.stream("GET", f"/v1/conversations/{conv}/export") as response:
            if response.status_code >= 400:
                await response.aread()
                raise _problem(response)
            async for line in response.aiter_lines():
                if line.strip():
                    yield Message.from_json(json.loads(line))

    async def _ndjson(self, path: str) -> AsyncIterator[dict[str, Any]]:
        """The objects of an NDJSON response, one at a time (a problem before the first raises)."""
        async with self._http.stream("GET", path) as response:
            if response.status_code >= 400:
                await response.aread()
                raise _problem(response)
            async for line in response.aiter_lines():
                if line.strip():
                    yield json.loads(line)

    # ---------------------------------------------------------------- profiles

    async def profile(self, user: str) -> Profile:
        """``user``'s profile: unexpired tags, attributes and counters."""
        return _profile(_as_dict(await self._call("GET", f"/v1/users/{_seg(user)}/profile")))

    async def tag(
        self,
        user: str,
        add: Iterable[TagSpec] = (),
        remove: Iterable[str] = (),
        *,
        source: str = "agent",
        evidence: str = "",
        ttl: int = 0,
        attributes: dict[str, Any] | None = None,
    ) -> Profile:
        """Add and remove tags on ``user``'s profile (and merge ``attributes``); returns the profile.

        ``add`` takes names, ``(name, confidence)`` pairs or ``TagInput`` records;
        ``evidence`` (a message id) and ``ttl`` (seconds, 0 = never) apply to those
        given by name or pair. ``source``: rule, model, agent, customer or bot.
        """
        tags = []
        for spec in add:
            if isinstance(spec, f.TagInput):
                tags.append(
                    {
                        "name": spec.name,
                        "confidence": spec.confidence,
                        "ttl": spec.ttl,
                        "evidence": spec.evidence,
                    }
                )
            elif isinstance(spec, tuple):
                tags.append({"name": spec[0], "confidence": spec[1], "ttl": ttl, "evidence": evidence})
            else:
                tags.append({"name": spec, "ttl": ttl, "evidence": evidence})
        payload = {"add": tags, "remove": list(remove), "source": source, "attributes": attributes or {}}
        return _profile(_as_dict(await self._call("POST", f"/v1/users/{_seg(user)}/tags", json=payload)))

    # --------------------------------------------------------------- internals

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _problem(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _problem(response: httpx.Response) -> AdminError:
    try:
        data = response.json()
    except ValueError:
        data = None
    fallback = response.text[:500] or response.reason_phrase
    return admin_error(response.status_code, data, fallback, response.headers.get("retry-after"))


def _seg(value: str) -> str:
    """``value`` as one URL path segment (file names may hold spaces, ``#`` or Chinese)."""
    return quote(value, safe="")


def _profile(data: dict[str, Any]) -> Profile:
    tags = tuple(
        Tag(
            str(t["name"]),
            str(t.get("source") or ""),
            float(t.get("confidence", 1.0)),
            str(t.get("evidence") or ""),
            int(t.get("ts") or 0),
            int(t.get("expires") or 0),
        )
        for t in data.get("tags") or []
    )
    counters = {str(k): int(v) for k, v in (data.get("counters") or {}).items()}
    return Profile(str(data.get("user") or ""), tags, dict(data.get("attributes") or {}), counters)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AdminError(502, "bad_response", f"expected a JSON object, got {type(data).__name__}")
    return data


def _summary(row: Any) -> ConversationSummary:
    data = _as_dict(row)
    last = data.get("last")
    return ConversationSummary(
        conv=str(data["conv"]),
        kind=str(data.get("kind", "")),
        name=str(data.get("name", "")),
        last_seq=int(data.get("last_seq", 0)),
        read=int(data.get("read", 0)),
        unread=int(data.get("unread", 0)),
        last=Message.from_json(last) if isinstance(last, dict) else None,
    )
