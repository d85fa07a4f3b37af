"""Audience profiles: the app's schema, typed attributes, tags with provenance and history, the
consent ledger, timezone and language — over the ``AudienceProfiles`` / ``Identities`` ports.

Every write is validated whole before anything is stored (a bad attribute refuses the request,
nothing of it is half-stored), then applied as one atomic change. A write addressed to a
profile that was merged meanwhile follows it to the survivor (``ProfileMerged`` → retry there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from parley.proto.errors import ErrorCode
from parley.server.audience_models import (
    CONSENT_STATES,
    USER_KIND,
    AudienceProfile,
    ConsentEntry,
    Identifier,
    ProfileChange,
    ProfileMerged,
    ProfileNotFound,
    StoredValue,
)
from parley.server.audience_port import AudienceProfiles, Identities
from parley.server.errors import ServiceError
from parley.server.events_schema import SchemaError, parse_events_config
from parley.server.ids import now_ms
from parley.server.models import TagRecord
from parley.server.services.audience_schema import (
    ProfilesSchema,
    check_language,
    check_timezone,
    from_stored,
    parse_schema,
    to_stored,
)

__all__ = ["AudienceLimits", "AudienceService", "AudienceStore", "TagSpec"]

#: Hops through ``ProfileMerged`` a write follows before it gives up (a chain of merges racing it).
_FOLLOW = 16


class AudienceStore(AudienceProfiles, Identities, Protocol):
    """The store roles the audience service uses."""


@dataclass(frozen=True, slots=True)
class AudienceLimits:
    """Bounds and defaults from ``Settings`` (``audience_*``)."""

    attributes_max: int = 200
    string_max: int = 1024
    list_max: int = 100
    timezone: str = "UTC"
    merge_guard: int = 5


@dataclass(frozen=True, slots=True)
class TagSpec:
    """A tag to set: name, confidence 0..1, evidence (a message or event id), ttl seconds (0 = never)."""

    name: str
    confidence: float = 1.0
    evidence: str = ""
    ttl: int = 0


class AudienceService:
    """Profiles of an app's audience (see the module docstring)."""

    def __init__(self, store: AudienceStore, limits: AudienceLimits | None = None) -> None:
        self._store = store
        self.limits = limits or AudienceLimits()
        #: Called with ``(app, {pid})`` after a profile changed (the segment service re-checks its
        #: dynamic segments: membership events). Must not block.
        self.on_changed: list[Callable[[str, Collection[str]], None]] = []
        #: Refuses an erased person's identifiers (set by ``build_services``; None: no check).
        self.erased_check: Callable[[str, list[Identifier]], Awaitable[None]] | None = None
        #: The tag definitions' rule for a person's tags: refuses or gives default ttls (s) by name
        #: (``TagDefinitionService.check_manual``, set by ``build_services``; None: no check).
        self.tag_check: Callable[[str, str, Sequence[str]], Awaitable[dict[str, int]]] | None = None

    # -- schema --------------------------------------------------------------------------------

    async def put_schema(self, app: str, doc: Any) -> int:
        """Validate (profiles part here, events part by ``events_schema``) and store the schema
        document; returns its version. ``schema_invalid`` names the first fault; nothing stored."""
        parse_schema(doc, max_attributes=self.limits.attributes_max)
        try:
            parse_events_config(doc)
        except SchemaError as exc:
            raise ServiceError(ErrorCode.SCHEMA_INVALID, str(exc)) from None
        return await self._store.put_audience_schema(app, doc, now_ms())

    async def get_schema(self, app: str) -> tuple[int, dict[str, Any]]:
        """The app's schema version and document (0 and ``{}`` before one was put)."""
        found = await self._store.get_audience_schema(app)
        return found if found else (0, {})

    async def schema(self, app: str) -> ProfilesSchema:
        """The parsed profiles part of the app's schema (the empty schema before one was put)."""
        _, doc = await self.get_schema(app)
        return parse_schema(
            doc, max_attributes=max(self.limits.attributes_max, len(doc.get("attributes", {})))
        )

    # -- reads ---------------------------------------------------------------------------------

    async def live_profile(self, app: str, pid: str) -> AudienceProfile:
        """The live profile ``pid`` is (``pid`` itself or the survivor it was merged into);
        ``profile_not_found`` if there is none."""
        for _ in range(_FOLLOW):
            profile = await self._store.get_audience_profile(app, pid)
            if profile is None:
                break
            if not profile.merged_into:
                return profile
            pid = profile.merged_into
        raise ServiceError(ErrorCode.PROFILE_NOT_FOUND, "no such profile in this app")

    async def view(self, app: str, pid: str) -> dict[str, Any]:
        """The JSON view of the live profile ``pid`` (typed attributes, effective timezone and language)."""
        return self.render(await self.live_profile(app, pid), await self.schema(app))

    def render(self, p: AudienceProfile, schema: ProfilesSchema) -> dict[str, Any]:
        """The JSON view of ``p`` under ``schema`` (see docs/AUDIENCE.md ``## Profiles``)."""
        timezone, tz_source = self._effective(
            p.timezone, p.attrs.get("timezone"), schema.timezone or self.limits.timezone
        )
        language, lang_source = self._effective(p.language, p.attrs.get("language"), schema.language)
        return {
            "pid": p.pid, "created": p.created, "updated": p.updated,
            "attributes": {k: from_stored(schema, k, v) for k, v in sorted(p.attrs.items())},
            "tags": [{"name": t.name, "source": t.source, "confidence": t.confidence, "evidence": t.evidence,
                      "ts": t.ts, "expires": t.expires} for t in sorted(p.tags.values(), key=lambda t: t.name)],
            "consent": {k: {"state": c.state, "ts": c.ts} for k, c in sorted(p.consent.items())},
            "computed": dict(sorted(p.computed.items())),
            "identifiers": [{"kind": i.kind, "value": i.value} for i in p.ids],
            "users": sorted(i.value for i in p.ids if i.kind == USER_KIND),
            "timezone": timezone, "timezone_source": tz_source, "language": language, "language_source": lang_source,
            "chat": {"attributes": p.chat_attributes, "counters": p.chat_counters},
        }  # fmt: skip

    @staticmethod
    def _effective(sdk: str, attribute: StoredValue | None, default: str) -> tuple[str, str]:
        """The value and where it came from: the SDK, then a profile attribute, then the app default."""
        if sdk:
            return sdk, "sdk"
        if isinstance(attribute, str) and attribute:
            return attribute, "attribute"
        return default, "default"

    async def _pids(self, app: str, pid: str) -> list[str]:
        """``pid`` and every profile merged into it (standing merges, transitively)."""
        pids, todo = [pid], [pid]
        while todo and len(pids) < 1000:
            current = todo.pop()
            for m in await self._store.list_merges(app, current):
                if m.winner == current and not m.undone and m.loser not in pids:
                    pids.append(m.loser)
                    todo.append(m.loser)
        return pids

    async def person_pids(self, app: str, pid: str) -> list[str]:
        """Live profile ``pid`` and every profile merged into it (the compliance export and erase)."""
        return await self._pids(app, pid)

    async def tag_history(self, app: str, pid: str, name: str = "") -> list[dict[str, Any]]:
        """The tag history of the person (the profile and every profile merged into it), by time."""
        live = await self.live_profile(app, pid)
        lines = [
            (p, h)
            for p in await self._pids(app, live.pid)
            for h in await self._store.tag_history(app, p, name)
        ]
        lines.sort(key=lambda ph: (ph[1].ts, ph[1].seq))
        return [{"pid": p, "name": h.name, "action": h.action, "source": h.source, "confidence": h.confidence,
                 "evidence": h.evidence, "ts": h.ts, "actor": h.actor} for p, h in lines]  # fmt: skip

    async def consent_ledger(self, app: str, pid: str, topic: str = "") -> list[dict[str, Any]]:
        """The consent ledger of the person (the profile and every profile merged into it), by time."""
        live = await self.live_profile(app, pid)
        lines = [
            (p, e)
            for p in await self._pids(app, live.pid)
            for e in await self._store.consent_ledger(app, p, topic)
        ]
        lines.sort(key=lambda pe: pe[1].ts)
        return [{"pid": p, "topic": e.topic, "state": e.state, "ts": e.ts, "via": {"kind": e.via_kind, "ref": e.via_ref}}
                for p, e in lines]  # fmt: skip

    # -- writes --------------------------------------------------------------------------------

    async def apply(self, app: str, pid: str, change: ProfileChange) -> AudienceProfile:
        """Apply a validated change to the live profile ``pid`` (following merges)."""
        for _ in range(_FOLLOW):
            try:
                changed = await self._store.update_audience_profile(app, pid, change)
                for listener in self.on_changed:
                    listener(app, {changed.pid})
                return changed
            except ProfileMerged as merged:
                pid = merged.into
            except ProfileNotFound:
                break
        raise ServiceError(ErrorCode.PROFILE_NOT_FOUND, "no such profile in this app")

    async def update(
        self,
        app: str,
        pid: str,
        *,
        actor: str,
        attributes: Mapping[str, Any] | None = None,
        timezone: str | None = None,
        language: str | None = None,
        add_tags: Sequence[TagSpec] = (),
        remove_tags: Sequence[str] = (),
        source: str = "manual",
        consent: Sequence[tuple[str, str]] = (),
        via: tuple[str, str] = ("api", ""),
    ) -> dict[str, Any]:
        """Validate everything, then apply it as one change; returns the profile's view.

        ``attributes`` (None unsets one), ``timezone`` (IANA) / ``language`` ("" clears), tags set
        with ``source`` and removed, ``consent`` ``(topic, state)`` pairs recorded ``via``
        ``(kind, ref)``. Errors: ``attribute_unknown``, ``attribute_type``, ``consent_invalid``,
        ``invalid_request`` (timezone, language, tag), ``profile_not_found``.
        """
        schema, now = await self.schema(app), now_ms()
        stored = {
            name: to_stored(
                schema, name, value, max_string=self.limits.string_max, max_list=self.limits.list_max
            )
            for name, value in (attributes or {}).items()
        }
        entries = tuple(self._consent_entry(schema, topic, state, now, via) for topic, state in consent)
        for t in add_tags:
            if not t.name or len(t.name) > 64 or not 0.0 <= t.confidence <= 1.0 or t.ttl < 0:
                raise ServiceError(ErrorCode.INVALID_REQUEST, "a tag: name 1..64, confidence 0..1, ttl >= 0")
        if self.tag_check is not None and add_tags:
            ttls = await self.tag_check(app, source, [t.name for t in add_tags])
            add_tags = [t if t.ttl or t.name not in ttls else replace(t, ttl=ttls[t.name]) for t in add_tags]
        change = ProfileChange(
            now=now,
            actor=actor,
            attrs=stored,
            set_tags=tuple(
                TagRecord(t.name, source, t.confidence, t.evidence, now, now + t.ttl * 1000 if t.ttl else 0)
                for t in add_tags
            ),
            remove_tags=tuple(n for n in remove_tags if n not in {t.name for t in add_tags}),
            consent=entries,
            timezone=None if timezone is None else (check_timezone(timezone) if timezone else ""),
            language=None if language is None else (check_language(language) if language else ""),
        )
        return self.render(await self.apply(app, pid, change), schema)

    @staticmethod
    def _consent_entry(
        schema: ProfilesSchema, topic: str, state: str, now: int, via: tuple[str, str]
    ) -> ConsentEntry:
        if topic not in schema.consent_topics:
            raise ServiceError(
                ErrorCode.CONSENT_INVALID, f"consent topic {topic!r} is not declared in the app's schema"
            )
        if state not in CONSENT_STATES:
            raise ServiceError(ErrorCode.CONSENT_INVALID, f"consent state is one of {list(CONSENT_STATES)}")
        return ConsentEntry(topic, state, now, via[0], via[1])

    async def decide_consent(
        self, app: str, pid: str, topic: str, granted: bool, *, via: tuple[str, str]
    ) -> None:
        """Record a yes/no decision for ``topic``: yes grants; no withdraws a standing grant, or
        denies if there was none. ``consent_invalid`` for an undeclared topic."""
        current = (await self.live_profile(app, pid)).consent.get(topic)
        state = (
            "granted" if granted else ("withdrawn" if current and current.state == "granted" else "denied")
        )
        await self.update(app, pid, actor=f"{via[0]}:{via[1]}", consent=[(topic, state)], via=via)

    async def pid_for_user(self, app: str, user: str) -> str:
        """The live profile of chat user ``user`` (identifier ``user``), created if needed
        (``identifier_erased`` for an erased person's user: not re-created)."""
        if self.erased_check is not None:
            await self.erased_check(app, [Identifier(USER_KIND, user)])
        pid, _ = await self._store.resolve_or_create(app, USER_KIND, user, now_ms())
        return pid
