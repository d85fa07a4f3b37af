"""One ID: attach identifiers to profiles and merge the profiles they show to be one person.

The rule (docs/AUDIENCE.md ``## Identity``):

1. Identifiers are normalised (``identity_values``); a bad one refuses the whole call.
2. The **survivor** is the profile holding the request's highest-priority identifier (the app's
   ``identity.merge_priority``, default phone > union > email > user > device > cookie) that is
   not somebody else (see 3); with none, a new profile is created for the top identifier.
3. Every other profile holding one of the request's identifiers is merged into the survivor,
   unless the two hold *different* values of one of the strong kinds (phone, union, email,
   user): those are two people sharing a weak identifier (a family tablet, a shared cookie).
   They are not merged and are reported as ``conflicts``; their identifiers stay where they are.
4. The **merge guard**: if more than ``merge_guard`` profiles would become one, or an identifier
   that links them already matched ``merge_guard`` standing merges, nothing is merged or
   attached (``merge_guard``). A merge's link (``matched``) is what the merged profile was
   found by plus the survivor's device/cookie identifiers of the request: so a kiosk device
   that keeps folding visitors into one profile stops, while a person's phone absorbing their
   own fresh cookies does not (a test number typed by many signed-in people is rule 3's case).
5. The request's identifiers nobody holds are attached to the survivor; events of every merged
   profile are moved to it (``EventLog.reassign_events``).

A concurrent merge that wins a race makes the store raise ``ProfileMerged``; the whole
resolution is then done again from the identifiers (it converges: each merge only removes a
live profile).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from parley.proto.errors import ErrorCode
from parley.server.audience_models import (
    AudienceProfile,
    Identifier,
    MergeRecord,
    ProfileMerged,
    ProfileNotFound,
)
from parley.server.audience_port import AudienceProfiles, Identities
from parley.server.errors import ServiceError
from parley.server.ids import new_id, now_ms
from parley.server.services.audience import AudienceService
from parley.server.services.identity_values import normalise

__all__ = ["STRONG_KINDS", "WEAK_KINDS", "IdentityService", "IdentityStore"]

#: Kinds of which one person has one value: two profiles with different values are two people.
STRONG_KINDS = frozenset({"phone", "union", "email", "user"})
#: Kinds several people may share (a family tablet, a kiosk, a shared browser).
WEAK_KINDS = frozenset({"device", "cookie"})
#: Identifiers one identify call may carry.
MAX_IDENTIFIERS = 16
_ROUNDS = 8


class IdentityStore(AudienceProfiles, Identities, Protocol):
    """The store roles the identity service uses, plus the event log's ``reassign_events``."""

    async def reassign_events(self, app: str, from_pid: str, to_pid: str) -> int:
        """Move every event of ``from_pid`` to ``to_pid`` (see ``EventLog``)."""


class _Retry(Exception):
    """Another writer changed the identifiers under us: resolve again."""


def _conflict(mine: set[Identifier], theirs: Sequence[Identifier]) -> bool:
    """Whether two identifier sets hold different values of one strong kind."""
    kinds = {i.kind for i in mine if i.kind in STRONG_KINDS}
    return any(i.kind in kinds and i not in mine for i in theirs)


class IdentityService:
    """Identify, merge, unmerge and explain (see the module docstring)."""

    def __init__(self, store: IdentityStore, audience: AudienceService) -> None:
        self._store = store
        self._audience = audience

    async def identify(
        self, app: str, identifiers: Sequence[tuple[str, object]], *, actor: str
    ) -> dict[str, Any]:
        """Resolve, merge and attach ``identifiers`` (``(kind, value)`` pairs) for one person.

        Returns ``{"pid", "created", "merged": [mid...], "conflicts": [pid...]}``. Errors:
        ``identifier_invalid``, ``merge_guard``, ``invalid_request`` (none or too many).
        """
        if not identifiers or len(identifiers) > MAX_IDENTIFIERS:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"identify takes 1..{MAX_IDENTIFIERS} identifiers")
        schema = await self._audience.schema(app)
        ids = list(
            dict.fromkeys(normalise(kind, value, schema.default_region) for kind, value in identifiers)
        )
        rank = {kind: n for n, kind in enumerate(schema.merge_priority)}
        ids.sort(key=lambda i: rank.get(i.kind, len(rank)))
        guard = schema.merge_guard or self._audience.limits.merge_guard
        for _ in range(_ROUNDS):
            try:
                return await self._identify_once(app, ids, guard, actor)
            except (ProfileMerged, ProfileNotFound, _Retry):
                continue  # a concurrent merge or attach moved things: resolve again
        raise ServiceError(ErrorCode.UNAVAILABLE, "identify kept racing with concurrent merges; retry")

    async def _identify_once(self, app: str, ids: list[Identifier], guard: int, actor: str) -> dict[str, Any]:
        now = now_ms()
        holders = {i: await self._store.resolve_identifier(app, i.kind, i.value) for i in ids}
        profiles: dict[str, AudienceProfile] = {}
        for pid in dict.fromkeys(p for p in holders.values() if p):
            profile = await self._store.get_audience_profile(app, pid)
            if profile is None or profile.merged_into:
                raise _Retry
            profiles[pid] = profile
        request = set(ids)
        # The survivor: the holder of the highest-priority identifier that is not somebody else.
        survivor = next(
            (p for p in (holders[i] for i in ids) if p and not _conflict(request, profiles[p].ids)), None
        )
        created = False
        if survivor is None:
            survivor, created = await self._store.resolve_or_create(app, ids[0].kind, ids[0].value, now)
            fresh = await self._store.get_audience_profile(app, survivor)
            if not created or fresh is None:
                raise _Retry  # it was created meanwhile by another call: resolve again
            holders[ids[0]], profiles[survivor] = survivor, fresh
        held = set(profiles[survivor].ids) | request
        to_merge: list[tuple[str, tuple[Identifier, ...]]] = []
        conflicts: list[str] = []
        for pid, profile in profiles.items():
            if pid == survivor:
                continue
            if _conflict(held, profile.ids):
                conflicts.append(pid)
                continue
            # The link: what the merged profile was found by, and the survivor's weak identifiers
            # of the request (a shared device or cookie is what the guard must count).
            link = [i for i in ids if holders[i] == pid]
            link += [i for i in ids if holders[i] == survivor and i.kind in WEAK_KINDS]
            to_merge.append((pid, tuple(link)))
            held |= set(profile.ids)
        if len(to_merge) + 1 > guard:
            raise ServiceError(
                ErrorCode.MERGE_GUARD,
                f"these identifiers would merge {len(to_merge) + 1} profiles; the limit is {guard}",
            )
        for _, matched in to_merge:
            for i in matched:
                if await self._store.count_merges_matching(app, i.kind, i.value) >= guard:
                    raise ServiceError(
                        ErrorCode.MERGE_GUARD,
                        f"a {i.kind} identifier already matched {guard} merges (shared by too many people?)",
                    )
        merged: list[str] = []
        for pid, matched in to_merge:
            kinds = ",".join(sorted({i.kind for i in matched if holders[i] == pid}))
            record = await self._store.merge_audience_profiles(
                app,
                survivor,
                pid,
                matched=matched,
                reason=f"shared {kinds}",
                actor=actor,
                mid=new_id("mg"),
                now=now,
            )
            await self._store.reassign_events(app, pid, survivor)
            merged.append(record.mid)
        conflicting = {i for i in ids if holders[i] in conflicts}
        for i in (i for i in ids if holders[i] is None and i not in conflicting):
            if await self._store.attach_identifier(app, survivor, i.kind, i.value, now) != survivor:
                raise _Retry  # someone else attached it meanwhile: that is a merge to consider
        return {"pid": survivor, "created": created, "merged": merged, "conflicts": conflicts}

    async def holder(self, app: str, ident: Identifier) -> str | None:
        """The live profile holding a normalised identifier; None if nobody does."""
        return await self._store.resolve_identifier(app, ident.kind, ident.value)

    async def merges(self, app: str, pid: str) -> list[dict[str, Any]]:
        """The merges the profile took part in, newest first (explained)."""
        return [await self._explain(r) for r in await self._store.list_merges(app, pid)]

    async def explain(self, app: str, mid: str) -> dict[str, Any]:
        """What merge ``mid`` did and why; ``profile_not_found`` if there is no such merge."""
        record = await self._store.get_merge(app, mid)
        if record is None:
            raise ServiceError(ErrorCode.PROFILE_NOT_FOUND, "no such merge in this app")
        return await self._explain(record)

    async def unmerge(self, app: str, mid: str) -> dict[str, Any]:
        """Undo merge ``mid`` (see ``Identities.unmerge_audience_profiles``). Events that moved
        with the merge stay with the survivor (they are not told apart). ``profile_not_found``
        if there is no such standing merge (or the survivor was merged again: undo that first)."""
        record = await self._store.unmerge_audience_profiles(app, mid, now_ms())
        if record is None:
            raise ServiceError(
                ErrorCode.PROFILE_NOT_FOUND, "no standing merge with that id (undone, or merged again since)"
            )
        return await self._explain(record)

    async def _explain(self, r: MergeRecord) -> dict[str, Any]:
        schema = await self._audience.schema(r.app)
        return {
            "mid": r.mid, "survivor": r.winner, "merged": r.loser, "ts": r.ts, "actor": r.actor, "reason": r.reason,
            "matched": [{"kind": i.kind, "value": i.value} for i in r.matched],
            "moved": [{"kind": i.kind, "value": i.value} for i in r.moved],
            "undone": r.undone,
            "before": {"survivor": self._audience.render(r.winner_before, schema),
                       "merged": self._audience.render(r.loser_before, schema)},
        }  # fmt: skip
