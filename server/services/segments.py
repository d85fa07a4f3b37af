"""Segments: rules checked against the app's schema, previews and explanations evaluated in the
store, saved segments (dynamic or snapshot) and the membership-change events of dynamic ones.

* **Checking.** A rule (text or JSON form, :mod:`parley.proto.segments`) is validated against the
  app's declared attributes (``segment_invalid`` + the clause's path); every segment it names must
  exist (``segment_invalid`` at that clause); saving one that would close a loop of nested segments
  is refused with ``segment_cycle``.
* **Evaluating.** Nested *dynamic* segments are expanded into the rule (so they are as fresh as
  the rule itself); nested *snapshots* read their frozen members. The store evaluates the result
  (:class:`~parley.server.segments_port.SegmentQueries`): nothing is loaded per profile here.
* **Membership changes.** A dynamic segment's stored members are its last evaluation. When a
  profile's data changes (its events were applied, its attributes or tags changed: :meth:`touch`),
  the saved dynamic segments are re-evaluated for those profiles within ``touch_delay`` seconds
  (batched) and each entry or exit is appended to the profile's events as ``segment_enter`` /
  ``segment_leave`` (``props: {"segment": id}``; event id derived from segment, profile, direction
  and time; only the node whose write really changed the stored members emits it). Time-relative rules ("no purchase
  within 30d") also change as time passes: :meth:`loop` re-evaluates every dynamic segment whose
  rule has a window every ``refresh_interval`` seconds (``segment_refresh_interval``, default
  60 s), walking evaluated and stored members side by side in pid order, a page at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import msgspec

from parley.proto.errors import ErrorCode
from parley.proto.segments import (
    And,
    EventAgg,
    Not,
    Occurrence,
    Or,
    Rule,
    SegmentError,
    SegmentRef,
    Sentiment,
    Tag,
    decode_rule,
    encode_rule,
    find_cycle,
    refs,
)
from parley.proto.segments_check import validate
from parley.proto.segments_text import parse, to_text
from parley.server.audience_port import AudienceProfiles
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.segments_port import EvalContext, SavedSegment
from parley.server.services.segments_members import MembershipSync, SyncStore

__all__ = ["SegmentLimits", "SegmentService", "SegmentsStore"]

log = logging.getLogger("parley.segments")


class SegmentsStore(SyncStore, AudienceProfiles, Protocol):
    """The roles the segment service uses: segments, the app's schema (profiles), the event log, apps."""


@dataclass(frozen=True, slots=True)
class SegmentLimits:
    """Bounds of rules and previews (Settings ``segment_*``)."""

    max_depth: int = 8
    max_window_s: int = 10 * 366 * 86400
    sample_max: int = 100
    page_max: int = 1000
    segments_max: int = 500


def timed(rule: Rule) -> bool:
    """Whether the rule's truth can change with time alone (a window or ``within``)."""
    if isinstance(rule, And | Or):
        return any(timed(i) for i in rule.items)
    if isinstance(rule, Not):
        return timed(rule.item)
    if isinstance(rule, Tag):
        return rule.within is not None
    return isinstance(rule, EventAgg | Occurrence | Sentiment)


class SegmentService:
    """Rules, previews, saved segments and membership changes (see the module docstring)."""

    def __init__(
        self,
        store: SegmentsStore,
        limits: SegmentLimits | None = None,
        *,
        touch_delay: float = 1.0,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self.limits = limits or SegmentLimits()
        #: Epoch ms "now" of every evaluation (a test moves it to see time-relative rules change).
        self.clock = clock
        #: Membership changes of dynamic segments (touch batches and the scheduled refresh).
        self.sync = MembershipSync(store, self._dynamic, touch_delay=touch_delay)

    # -- rules -------------------------------------------------------------------------------

    async def attr_types(self, app: str) -> dict[str, str]:
        """The app's declared attributes and their types (``{}`` without a schema)."""
        stored = await self._store.get_audience_schema(app)
        attrs = (stored[1] if stored else {}).get("attributes") or {}
        return {str(k): str(v.get("type", "string")) for k, v in attrs.items() if isinstance(v, Mapping)}

    @staticmethod
    def parse(text: str | None = None, rule: Any = None) -> Rule:
        """The rule from its text form or its JSON form (exactly one); ``segment_invalid`` if malformed."""
        if (text is None) == (rule is None):
            raise ServiceError(ErrorCode.SEGMENT_INVALID, "give the rule as text or as JSON (one of them)")
        if text is not None:
            return parse(text)
        return decode_rule(msgspec.json.encode(rule))  # the JSON form arrives decoded: typed decode

    async def check(self, app: str, rule: Rule, saving: str | None = None) -> None:
        """Validate against the schema and bounds; every named segment must exist; saving
        ``saving`` must not close a loop (``segment_cycle``)."""
        validate(
            rule,
            await self.attr_types(app),
            max_depth=self.limits.max_depth,
            max_window_s=self.limits.max_window_s,
        )
        saved = {s.id: s for s in await self._store.list_segments(app)}
        for path, node in _paths(rule):
            if isinstance(node, SegmentRef) and node.id not in saved and node.id != saving:
                raise SegmentError(
                    ErrorCode.SEGMENT_INVALID, f"{path}/id", f"no segment {node.id!r} in this app"
                )
        if saving is not None:
            chain = find_cycle(saving, rule, lambda s: decode_rule(saved[s].rule) if s in saved else None)
            if chain is not None:
                raise SegmentError(ErrorCode.SEGMENT_CYCLE, "", "nested segments loop: " + " -> ".join(chain))

    async def expand(self, app: str, rule: Rule, depth: int = 0) -> Rule:
        """Replace each nested dynamic segment by its (expanded) rule; snapshots stay references."""
        if depth > 16:
            raise SegmentError(ErrorCode.SEGMENT_CYCLE, "", "nested segments loop")
        if isinstance(rule, And | Or):
            items = [await self.expand(app, i, depth) for i in rule.items]
            return And(items) if isinstance(rule, And) else Or(items)
        if isinstance(rule, Not):
            return Not(await self.expand(app, rule.item, depth))
        if isinstance(rule, SegmentRef):
            saved = await self._store.get_segment(app, rule.id)
            if saved is not None and saved.mode == "dynamic":
                return await self.expand(app, decode_rule(saved.rule), depth + 1)
        return rule

    async def context(self, app: str, now: int | None = None) -> EvalContext:
        """What rules of ``app`` are evaluated against: now and the attribute types."""
        return EvalContext(self.clock() if now is None else now, await self.attr_types(app))

    # -- previews ----------------------------------------------------------------------------

    async def preview(self, app: str, rule: Rule, sample: int = 20) -> tuple[int, list[str]]:
        """(count, the first ``sample`` member pids) of a checked rule."""
        await self.check(app, rule)
        ctx, full = await self.context(app), await self.expand(app, rule)
        n = min(max(sample, 0), self.limits.sample_max)
        return await self._store.preview_segment(app, full, ctx, n)

    async def explain(self, app: str, rule: Rule, pid: str) -> dict[str, Any]:
        """Why profile ``pid`` is in or out: ``{"member": bool, "clauses": [{path, text, held}]}``."""
        await self.check(app, rule)
        ctx, full = await self.context(app), await self.expand(app, rule)
        held = await self._store.explain_segment(app, full, ctx, pid)
        if held is None:
            raise ServiceError(
                getattr(ErrorCode, "PROFILE_NOT_FOUND", ErrorCode.NOT_FOUND),
                "no such live profile in this app",
            )
        nodes = dict(_paths(full))
        clauses = [{"path": p, "text": to_text(nodes[p]), "held": h} for p, h in held.items()]
        return {"member": held[""], "clauses": clauses}

    # -- saved segments ----------------------------------------------------------------------

    async def get(self, app: str, seg: str) -> SavedSegment:
        """The saved segment; ``segment_not_found``."""
        found = await self._store.get_segment(app, seg)
        if found is None:
            raise ServiceError(ErrorCode.SEGMENT_NOT_FOUND, f"no segment {seg!r} in this app")
        return found

    async def list_all(self, app: str) -> list[SavedSegment]:
        """Every saved segment of ``app`` by id."""
        return await self._store.list_segments(app)

    async def save(
        self, app: str, seg: str, name: str, rule: Rule, mode: Literal["dynamic", "snapshot"], *, create: bool
    ) -> SavedSegment:
        """Create (``create``; taken id: ``invalid_request``) or replace a segment; its members are
        evaluated now (a snapshot's are frozen, a dynamic one's are the baseline of its changes)."""
        if not seg or len(seg) > 64 or not seg.replace("-", "").replace("_", "").isalnum():
            raise ServiceError(ErrorCode.INVALID_REQUEST, "a segment id is 1-64 of [A-Za-z0-9_-]")
        await self.check(app, rule, saving=seg)
        old = await self._store.get_segment(app, seg)
        if create and old is not None:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"segment {seg!r} exists")
        if not create and old is None:
            raise ServiceError(ErrorCode.SEGMENT_NOT_FOUND, f"no segment {seg!r} in this app")
        if create and len(await self._store.list_segments(app)) >= self.limits.segments_max:
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED, f"at most {self.limits.segments_max} segments per app"
            )
        ctx = await self.context(app)
        version = 1 if old is None else old.version + 1
        saved = SavedSegment(
            app, seg, name, encode_rule(rule), to_text(rule), mode, ctx.now if mode == "snapshot" else 0,
            old.created if old else ctx.now, ctx.now, version, timed(rule),
        )  # fmt: skip
        if not await self._store.put_segment(saved, expect_version=0 if old is None else old.version):
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"segment {seg!r} changed meanwhile; retry")
        await self._store.freeze_segment(app, seg, await self.expand(app, rule), ctx)
        return saved

    async def delete(self, app: str, seg: str) -> None:
        """Delete; refused (``invalid_request``) while another segment names it."""
        await self.get(app, seg)
        for other in await self._store.list_segments(app):
            if other.id != seg and seg in set(refs(decode_rule(other.rule))):
                raise ServiceError(ErrorCode.INVALID_REQUEST, f"segment {other.id!r} uses {seg!r}")
        await self._store.delete_segment(app, seg)

    async def snapshot(self, app: str, seg: str) -> SavedSegment:
        """Freeze the members of ``seg`` as of now (a dynamic one becomes a snapshot)."""
        old = await self.get(app, seg)
        return await self.save(app, seg, old.name, decode_rule(old.rule), "snapshot", create=False)

    async def members(self, app: str, seg: str, after: str = "", limit: int = 100) -> tuple[list[str], int]:
        """A page of members (dynamic: evaluated now; snapshot: frozen) and the frozen time (0)."""
        saved = await self.get(app, seg)
        n = min(max(limit, 1), self.limits.page_max)
        if saved.mode == "snapshot":
            return await self._store.stored_members(app, seg, after, n), saved.frozen_at
        full = await self.expand(app, decode_rule(saved.rule))
        return await self._store.segment_page(app, full, await self.context(app), after, n), 0

    # -- membership changes ------------------------------------------------------------------

    def touch(self, app: str, pids: Collection[str]) -> None:
        """Profiles of ``app`` changed: re-check their dynamic segments soon (never blocks)."""
        self.sync.touch(app, pids)

    async def _dynamic(self, app: str, only_timed: bool) -> list[tuple[str, Rule, EvalContext]]:
        """The app's dynamic segments, expanded, with their context."""
        out = []
        for s in await self._store.list_segments(app):
            if s.mode == "dynamic" and (s.timed or not only_timed):
                out.append((s.id, await self.expand(app, decode_rule(s.rule)), await self.context(app)))
        return out

    async def loop(self, interval: float) -> None:
        """Re-evaluate every app's time-relative dynamic segments every ``interval`` s, until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sync.refresh_all()
            except Exception as exc:  # a failing pass is retried at the next one
                log.warning("segment refresh failed: %r", exc)


def _paths(rule: Rule, path: str = "") -> list[tuple[str, Rule]]:
    out = [(path, rule)]
    if isinstance(rule, And | Or):
        for i, item in enumerate(rule.items):
            out += _paths(item, f"{path}/items/{i}")
    elif isinstance(rule, Not):
        out += _paths(rule.item, f"{path}/item")
    return out
