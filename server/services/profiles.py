"""Customer profiles: explainable tags (source, confidence, evidence, expiry), attributes, counters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec

from parley.proto import frames
from parley.server.audience_models import USER_KIND, Identifier
from parley.server.ids import now_ms
from parley.server.models import Profile, TagRecord
from parley.server.store_ports import Profiles

__all__ = ["ProfileService", "profile_info"]


def profile_info(profile: Profile | None, user: str, now: int) -> frames.ProfileInfo:
    """The wire view of a profile, without expired tags."""
    if profile is None:
        return frames.ProfileInfo(user=user)
    tags = [
        frames.Tag(
            name=t.name,
            source=t.source,
            confidence=t.confidence,
            evidence=t.evidence,
            ts=t.ts,
            expires=t.expires,
        )
        for t in sorted(profile.tags.values(), key=lambda t: t.name)
        if not t.expires or t.expires > now
    ]
    return frames.ProfileInfo(user=user, tags=tags, attributes=profile.attributes, counters=profile.counters)


class ProfileService:
    """Reads and tags customer profiles over the :class:`Profiles` port (tags, attributes, counters)."""

    def __init__(self, store: Profiles) -> None:
        self._store = store
        #: Refuses an erased person's identifiers (set by ``build_services``; None: no check).
        self.erased_check: Callable[[str, list[Identifier]], Awaitable[None]] | None = None
        #: The tag definitions' rule for a person's tags: refuses or gives default ttls (s) by name
        #: (``TagDefinitionService.check_manual``, set by ``build_services``; None: no check).
        self.tag_check: Callable[[str, str, Sequence[str]], Awaitable[dict[str, int]]] | None = None

    async def get(self, app: str, user: str) -> frames.ProfileInfo:
        """The wire view of ``user``'s profile, expired tags left out; an empty profile if none is stored."""
        return profile_info(await self._store.get_profile(app, user), user, now_ms())

    async def tag(
        self,
        app: str,
        user: str,
        source: str,
        add: Sequence[frames.TagInput],
        remove: Sequence[str],
        attributes: Mapping[str, Any] | None = None,
    ) -> frames.ProfileInfo:
        """Add (or replace) and remove tags, and merge ``attributes``; ``source`` records who
        decided the tags (``agent``, ``bot``, ``model``...). ``identifier_erased`` for an erased
        person's user: a tag never re-creates their profile."""
        if self.erased_check is not None:
            await self.erased_check(app, [Identifier(USER_KIND, user)])
        if self.tag_check is not None and add:
            ttls = await self.tag_check(app, source, [t.name for t in add])
            add = [
                t if t.ttl or t.name not in ttls else msgspec.structs.replace(t, ttl=ttls[t.name])
                for t in add
            ]
        now = now_ms()
        records = [
            TagRecord(t.name, source, t.confidence, t.evidence, now, now + t.ttl * 1000 if t.ttl else 0)
            for t in add
        ]
        profile = await self._store.merge_profile(
            app, user, set_tags=records, remove_tags=remove, attributes=attributes, updated=now
        )
        return profile_info(profile, user, now)
