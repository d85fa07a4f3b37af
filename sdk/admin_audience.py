"""Audience profiles and One ID through :class:`~parley.sdk.admin.AdminClient` (``/v1/audience``).

::

    await admin.set_audience_schema({"attributes": {"plan": {"type": "string"}},
                                     "consent_topics": ["marketing"]})
    who = await admin.identify([("phone", "+14155550100"), ("cookie", "ck-1")])
    person = await admin.update_audience_profile(who.pid, attributes={"plan": "gold"},
                                                 consent={"marketing": "granted"})

Refusals raise :class:`~parley.sdk.errors.AdminError` with the stable code (``schema_invalid``,
``attribute_unknown``, ``attribute_type``, ``consent_invalid``, ``identifier_invalid``,
``merge_guard``, ``profile_not_found``); nothing of a refused request is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["AudienceOps", "AudienceProfile", "AudienceTag", "IdentifyResult", "MergeInfo"]


@dataclass(frozen=True, slots=True)
class AudienceTag:
    """A tag with its provenance: who set it (``source``), how sure, from what, when, until when."""

    name: str
    source: str
    confidence: float
    evidence: str
    ts: int
    expires: int


@dataclass(frozen=True, slots=True)
class AudienceProfile:
    """One person of the app: typed attributes, tags, consent per topic (``{"state", "ts"}``),
    computed values, identifiers (``(kind, value)``), chat users, effective timezone and language
    with where each came from (``sdk``, ``attribute``, ``default``), and what chat learnt."""

    pid: str
    created: int
    updated: int
    attributes: dict[str, Any]
    tags: tuple[AudienceTag, ...]
    consent: dict[str, dict[str, Any]]
    computed: dict[str, Any]
    identifiers: tuple[tuple[str, str], ...]
    users: tuple[str, ...]
    timezone: str
    timezone_source: str
    language: str
    language_source: str
    chat: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IdentifyResult:
    """The person's live profile, whether it was new, the merges done and the profiles left apart."""

    pid: str
    created: bool
    merged: tuple[str, ...]
    conflicts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MergeInfo:
    """One merge explained; ``before`` holds both profiles as they were (``survivor``, ``merged``)."""

    mid: str
    survivor: str
    merged: str
    ts: int
    actor: str
    reason: str
    matched: tuple[tuple[str, str], ...]
    moved: tuple[tuple[str, str], ...]
    undone: int
    before: dict[str, Any]


def profile_from(data: Mapping[str, Any]) -> AudienceProfile:
    """The :class:`AudienceProfile` of the API's JSON."""
    return AudienceProfile(
        pid=data["pid"], created=int(data["created"]), updated=int(data["updated"]),
        attributes=dict(data["attributes"]),
        tags=tuple(AudienceTag(t["name"], t["source"], float(t["confidence"]), t["evidence"], int(t["ts"]),
                               int(t["expires"])) for t in data["tags"]),
        consent=dict(data["consent"]), computed=dict(data["computed"]),
        identifiers=tuple((i["kind"], i["value"]) for i in data["identifiers"]), users=tuple(data["users"]),
        timezone=data["timezone"], timezone_source=data["timezone_source"], language=data["language"],
        language_source=data["language_source"], chat=dict(data.get("chat") or {}),
    )  # fmt: skip


def _merge(data: Mapping[str, Any]) -> MergeInfo:
    return MergeInfo(
        mid=data["mid"], survivor=data["survivor"], merged=data["merged"], ts=int(data["ts"]), actor=data["actor"],
        reason=data["reason"], matched=tuple((i["kind"], i["value"]) for i in data["matched"]),
        moved=tuple((i["kind"], i["value"]) for i in data["moved"]), undone=int(data["undone"]),
        before=dict(data["before"]),
    )  # fmt: skip


def _seg(value: str) -> str:
    return quote(value, safe="")


class AudienceOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def audience_schema(self) -> tuple[int, dict[str, Any]]:
        """The app's audience schema document and its version (0 and ``{}`` before the first)."""
        data = await self._call("GET", "/v1/audience/schema")
        return int(data["version"]), dict(data["schema"])

    async def set_audience_schema(self, schema: Mapping[str, Any]) -> int:
        """Replace the app's audience schema (validated whole); returns its new version."""
        return int((await self._call("PUT", "/v1/audience/schema", json=dict(schema)))["version"])

    async def identify(
        self, identifiers: Iterable[tuple[str, str]], *, actor: str = "admin"
    ) -> IdentifyResult:
        """Attach identifiers (``(kind, value)``) to one person, merging profiles by the One ID rule."""
        body = {"identifiers": [{"kind": k, "value": v} for k, v in identifiers], "actor": actor}
        data = await self._call("POST", "/v1/audience/identify", json=body)
        return IdentifyResult(
            data["pid"], bool(data["created"]), tuple(data["merged"]), tuple(data["conflicts"])
        )

    async def audience_profile(self, pid: str) -> AudienceProfile:
        """The live profile ``pid`` (a merged pid reads as its survivor)."""
        return profile_from(await self._call("GET", f"/v1/audience/profiles/{_seg(pid)}"))

    async def profile_by_identifier(self, kind: str, value: str) -> AudienceProfile:
        """The live profile holding an identifier (``profile_not_found`` if none does)."""
        return profile_from(await self._call("GET", f"/v1/audience/identifiers/{_seg(kind)}/{_seg(value)}"))

    async def update_audience_profile(
        self,
        pid: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        timezone: str | None = None,
        language: str | None = None,
        add_tags: Sequence[Mapping[str, Any]] = (),
        remove_tags: Sequence[str] = (),
        source: str = "manual",
        consent: Mapping[str, str] | None = None,
        ref: str = "",
        actor: str = "admin",
    ) -> AudienceProfile:
        """One atomic change: attributes (``None`` unsets one), timezone/language (``""`` clears),
        tags (``{"name", "confidence", "evidence", "ttl"}``) set with ``source`` and removed, consent
        ``{topic: state}`` recorded with ``ref``. All or nothing."""
        body: dict[str, Any] = {"attributes": dict(attributes or {}), "add_tags": [dict(t) for t in add_tags],
                                "remove_tags": list(remove_tags), "source": source, "actor": actor,
                                "consent": [{"topic": t, "state": s, "ref": ref} for t, s in (consent or {}).items()]}  # fmt: skip
        if timezone is not None:
            body["timezone"] = timezone
        if language is not None:
            body["language"] = language
        return profile_from(await self._call("PATCH", f"/v1/audience/profiles/{_seg(pid)}", json=body))

    async def tag_history(self, pid: str, name: str = "") -> list[dict[str, Any]]:
        """Every change of the person's tags (of ``name`` if given), oldest first."""
        params = {"name": name} if name else {}
        data = await self._call("GET", f"/v1/audience/profiles/{_seg(pid)}/tags/history", params=params)
        return list(data["history"])

    async def consent_ledger(self, pid: str, topic: str = "") -> list[dict[str, Any]]:
        """The person's consent ledger (of ``topic`` if given), oldest first."""
        params = {"topic": topic} if topic else {}
        return list(
            (await self._call("GET", f"/v1/audience/profiles/{_seg(pid)}/consent", params=params))["ledger"]
        )

    async def profile_merges(self, pid: str) -> list[MergeInfo]:
        """The merges the profile took part in, newest first."""
        return [
            _merge(m)
            for m in (await self._call("GET", f"/v1/audience/profiles/{_seg(pid)}/merges"))["merges"]
        ]

    async def explain_merge(self, mid: str) -> MergeInfo:
        """What merge ``mid`` did and why."""
        return _merge(await self._call("GET", f"/v1/audience/merges/{_seg(mid)}"))

    async def unmerge(self, mid: str) -> MergeInfo:
        """Undo a standing merge (the merged profile lives again with its identifiers)."""
        return _merge(await self._call("POST", f"/v1/audience/merges/{_seg(mid)}/unmerge"))
