"""One ID: attach identifiers to profiles and merge the profiles they show to be one person.

The rule (docs/AUDIENCE.md ``## Identity``):

1. Identifiers are normalised (``identity_values``); a bad one refuses the whole call.
2. The **cluster**: the profile of the request's anchor (the SDK's signed-in user; for the admin
   API its ``user``/``union`` identifier, else its top strong identifier that is held, else its
   top strong one, by the app's ``identity.merge_priority``, default
   phone > union > email > user > device > cookie; a request of
   device/cookie identifiers only starts from their top holder), then each other profile holding one of the
   request's identifiers, in priority order, unless it holds a *different* value of a strong
   kind (phone, union, email, user) than the cluster so far: that is somebody else sharing a
   weak identifier (a family tablet, a shared cookie) or a number typed by several people. It
   is not merged, its identifiers stay where they are, and it is reported in ``conflicts``.
3. The **survivor** is the cluster's profile holding the request's highest-priority identifier;
   the others are merged into it. With no holder at all, a new profile is made.
4. The **merge guard**: if more than ``merge_guard`` profiles would become one, or an identifier
   that links them already matched ``merge_guard`` standing merges, nothing is merged or
   attached (``merge_guard``). A merge's link (``matched``) is what the merged profile was
   found by plus the survivor's device/cookie identifiers of the request: so a kiosk device
   that keeps folding visitors into one profile stops, while a person's phone absorbing their
   own fresh cookies does not (a test number typed by many signed-in people is rule 3's case).
5. The request's identifiers nobody holds are attached to the survivor (never a second ``user``
   or ``union`` id: a person has one of each); events of every merged
   profile are moved to it (``EventLog.reassign_events``); an unmerge moves back exactly the
   events first stored for the merged profile or for the profiles merged into it before
   (``EventLog.restore_events`` by origin).

A concurrent merge that wins a race makes the store raise ``ProfileMerged``; the whole
resolution is then done again from the identifiers (it converges: each merge only removes a
live profile).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
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

__all__ = ["ONE_PER_PERSON", "STRONG_KINDS", "WEAK_KINDS", "IdentityService", "IdentityStore"]

#: Kinds of which one person has one value: two profiles with different values are two people.
STRONG_KINDS = frozenset({"phone", "union", "email", "user"})
#: Kinds of which a person has exactly one value (an app user id, a union id): never two on a profile.
ONE_PER_PERSON = frozenset({"user", "union"})
#: Kinds several people may share (a family tablet, a kiosk, a shared browser).
WEAK_KINDS = frozenset({"device", "cookie"})
#: Identifiers one identify call may carry.
MAX_IDENTIFIERS = 16
_ROUNDS = 8


class IdentityStore(AudienceProfiles, Identities, Protocol):
    """The store roles the identity service uses, plus the event log's ``reassign_events``."""

    async def reassign_events(self, app: str, from_pid: str, to_pid: str) -> int:
        """Move every event of ``from_pid`` to ``to_pid`` (see ``EventLog``)."""

    async def restore_events(self, app: str, from_pid: str, to_pid: str, origins: Collection[str]) -> int:
        """Move ``from_pid``'s events first stored under one of ``origins`` to ``to_pid``."""


#: ``(app, identifiers)`` → None, or ``identifier_erased`` raised (the compliance service's check).
ErasedCheck = Callable[[str, list[Identifier]], Awaitable[None]]


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
        #: Refuses an erased person's identifiers (set by ``build_services``; None: no check).
        self.erased_check: ErasedCheck | None = None

    async def identify(
        self,
        app: str,
        identifiers: Sequence[tuple[str, object]],
        *,
        actor: str,
        anchor: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Resolve, merge and attach ``identifiers`` (``(kind, value)`` pairs) for one person.

        ``anchor`` (the SDK's signed-in user, ``("user", id)``; by default the request's top strong
        identifier that somebody holds, else its top strong one) is who the request is about: its profile (created if needed) is always part of
        the result, and a profile that conflicts with it is never merged (nor given its identifiers). Returns ``{"pid", "created", "merged": [mid...],
        "conflicts": [pid...]}``. Errors: ``identifier_invalid``, ``merge_guard``,
        ``invalid_request`` (none or too many).
        """
        pairs = [*identifiers, *([anchor] if anchor else [])]
        if not pairs or len(pairs) > MAX_IDENTIFIERS:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"identify takes 1..{MAX_IDENTIFIERS} identifiers")
        schema = await self._audience.schema(app)
        ids = list(dict.fromkeys(normalise(kind, value, schema.default_region) for kind, value in pairs))
        rank = {kind: n for n, kind in enumerate(schema.merge_priority)}
        ids.sort(key=lambda i: rank.get(i.kind, len(rank)))
        seed = normalise(anchor[0], anchor[1], schema.default_region) if anchor else None
        if self.erased_check is not None:
            await self.erased_check(app, ids)
        guard = schema.merge_guard or self._audience.limits.merge_guard
        for _ in range(_ROUNDS):
            try:
                return await self._identify_once(app, ids, seed, guard, actor)
            except (ProfileMerged, ProfileNotFound, _Retry):
                continue  # a concurrent merge or attach moved things: resolve again
        raise ServiceError(ErrorCode.UNAVAILABLE, "identify kept racing with concurrent merges; retry")

    async def _identify_once(
        self, app: str, ids: list[Identifier], anchor: Identifier | None, guard: int, actor: str
    ) -> dict[str, Any]:
        now = now_ms()
        holders = {i: await self._store.resolve_identifier(app, i.kind, i.value) for i in ids}
        profiles: dict[str, AudienceProfile] = {}
        for pid in dict.fromkeys(p for p in holders.values() if p):
            profile = await self._store.get_audience_profile(app, pid)
            if profile is None or profile.merged_into:
                raise _Retry
            profiles[pid] = profile
        if anchor is None:  # who the request is about: its user/union id, else its top strong one held
            strong = [i for i in ids if i.kind in STRONG_KINDS]
            single = [i for i in strong if i.kind in ONE_PER_PERSON]
            anchor = (
                single[0]
                if single
                else next((i for i in strong if holders[i]), strong[0] if strong else None)
            )
        # The cluster starts from the anchor (its profile, or just the anchor when nobody holds it
        # yet), else from the top holder; every other holder joins in priority order unless it is
        # somebody else (a different strong identifier than the cluster's).
        start = holders[anchor] if anchor is not None else next((p for p in holders.values() if p), None)
        held = set(profiles[start].ids) if start else ({anchor} if anchor else set())
        members = [start] if start else []
        conflicts: list[str] = []
        for pid in dict.fromkeys(p for p in (holders[i] for i in ids) if p and p != start):
            if _conflict(held, profiles[pid].ids):
                conflicts.append(pid)
            else:
                members.append(pid)
                held |= set(profiles[pid].ids)
        # The survivor: the member holding the request's highest-priority identifier.
        survivor = next((p for p in (holders[i] for i in ids) if p in members), None)
        to_merge: list[tuple[str, tuple[Identifier, ...]]] = []
        for pid in members:
            if pid != survivor:
                # The link: what the merged profile was found by, and the survivor's weak identifiers
                # of the request (a shared device or cookie is what the guard must count).
                link = [i for i in ids if holders[i] == pid]
                link += [i for i in ids if holders[i] == survivor and i.kind in WEAK_KINDS]
                to_merge.append((pid, tuple(link)))
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
        created = False
        if survivor is None:  # nobody (compatible) holds any of them: a new profile, for the anchor
            first = anchor or ids[0]
            survivor, created = await self._store.resolve_or_create(app, first.kind, first.value, now)
            if not created:
                raise _Retry  # somebody made it meanwhile: resolve again
            holders[first] = survivor
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
            self._changed(app, {survivor, pid})
            merged.append(record.mid)
        conflicting = {i for i in ids if holders[i] in conflicts}
        own = {i.kind: i for i in held if i.kind in ONE_PER_PERSON}
        unheld = [i for i in ids if holders[i] is None and i not in conflicting]
        for i in (i for i in unheld if i.kind not in own or own[i.kind] == i):  # never a second user id
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
        """Undo merge ``mid`` (see ``Identities.unmerge_audience_profiles``). The events first
        stored for the merged profile, or for a profile merged into it before (still merged),
        move back to it; those stored for the survivor stay. ``profile_not_found`` if there is
        no such standing merge (or the survivor was merged again: undo that first)."""
        record = await self._store.unmerge_audience_profiles(app, mid, now_ms())
        if record is None:
            raise ServiceError(
                ErrorCode.PROFILE_NOT_FOUND, "no standing merge with that id (undone, or merged again since)"
            )
        origins = await self._origins(record)
        await self._store.restore_events(app, record.winner, record.loser, origins)
        self._changed(app, {record.winner, record.loser})
        return await self._explain(record)

    async def _origins(self, record: MergeRecord) -> set[str]:
        """The merged profile and, transitively, every profile still merged into it (by the
        merge records: a closed profile takes no merge, so these were all made before
        ``record``; an undone one has had its events moved back already)."""
        found, todo = {record.loser}, [record.loser]
        while todo:
            pid = todo.pop()
            for r in await self._store.list_merges(record.app, pid):
                if r.winner == pid and not r.undone and r.loser not in found:
                    found.add(r.loser)
                    todo.append(r.loser)
        return found

    def _changed(self, app: str, pids: set[str]) -> None:
        """Tell the audience service's listeners (segments) that these profiles changed."""
        for listener in self._audience.on_changed:
            listener(app, pids)

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
