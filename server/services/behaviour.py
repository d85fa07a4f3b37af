"""What events change on a profile: ``count:<event>`` counters, behaviour tags by rules, and the
lifecycle stage (whose transitions are themselves events, ``lifecycle_changed``).

Pure decisions live in :mod:`parley.server.events_rules` and :mod:`parley.server.events_scores`;
this module reads what they need (the profile, the events in each rule's window) and writes the
result as **one** atomic :class:`~parley.server.audience_models.ProfileChange` per profile and
batch, through the audience port: tags with source ``rule`` and their evidence, counters added
(never read-modify-written, so two nodes counting events of one profile lose nothing).

The change names the events it applies (``ProfileChange.events``): the store makes it at most
once per event, so a recovery that finds events still marked pending after a crash, or races a
slow node applying the same events, never counts one twice (``AlreadyApplied``: the events
already applied are dropped and the change is made with the others).

A profile merged meanwhile (``ProfileMerged``): its events are moved to the survivor
(``reassign_events``, idempotent: events stored on the dead profile after the merge's own move
are caught here) and the change is made there instead.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

from parley.server.audience_models import AlreadyApplied, AudienceProfile, ProfileChange, ProfileMerged
from parley.server.audience_port import AudienceProfiles
from parley.server.compliance_port import ErasureStore
from parley.server.events_models import Event
from parley.server.events_port import EventLog
from parley.server.events_rules import evaluate_rule, plan_rule_tags, rule_tag
from parley.server.events_schema import EventsConfig
from parley.server.events_scores import lifecycle_stage
from parley.server.models import TagRecord

__all__ = ["LIFECYCLE_EVENT", "RULE_EVENTS_MAX", "BehaviourStore", "Derivations", "transition_event"]

log = logging.getLogger("parley.events")

#: The server's own event of a lifecycle transition (``{from, to}``).
LIFECYCLE_EVENT = "lifecycle_changed"
#: Most events one rule reads from its window for one profile (a bound on one evaluation:
#: past it the most recent ones count; a rule needing more than 1000 is refused by the schema).
RULE_EVENTS_MAX = 1000
_MERGE_HOPS = 3


class BehaviourStore(EventLog, AudienceProfiles, ErasureStore, Protocol):
    """The roles the derivations use: the event log, the audience profiles, and the erase records
    (events that reach an erased profile are deleted)."""


def transition_event(app: str, pid: str, previous: str, since: int, stage: str, now: int) -> Event:
    """The ``lifecycle_changed`` event of a transition. Its id is made of the profile, the stage
    left (and since when) and the stage entered, so two nodes deciding the same transition at
    once store it once (the event log is idempotent by id)."""
    eid = f"lc_{pid}_{previous or 'none'}_{since}_{stage}"
    return Event(app, eid, pid, LIFECYCLE_EVENT, now, {"from": previous, "to": stage}, now)


class Derivations:
    """Applies events to their profile (see the module docstring)."""

    def __init__(self, store: BehaviourStore) -> None:
        self._store = store
        #: Lifecycle transitions emitted (observability and tests).
        self.transitions = 0
        #: Called with each stored ``lifecycle_changed`` event (journeys start on them). Must not block.
        self.on_stored: list[Callable[[Sequence[Event]], None]] = []
        #: Called with ``(app, pid)`` when events reached an erased profile (and were deleted):
        #: the event service drops the profile id it cached for the person. Must not block.
        self.on_erased: list[Callable[[str, str], None]] = []

    def _stored(self, events: Sequence[Event]) -> None:
        for listener in self.on_stored:
            listener(events)

    async def apply(self, config: EventsConfig, app: str, pid: str, events: Sequence[Event], now: int) -> str:
        """Apply ``events`` (newly stored, all of ``pid``) to the profile; returns the pid they
        ended on (the survivor, if the profile was merged). Raises ``RuntimeError`` if the
        profile is still merging after a few hops (the events stay pending: applied later)."""
        for _ in range(_MERGE_HOPS * 2):
            profile = await self._store.get_audience_profile(app, pid)
            if profile is None:
                if await self._store.get_erasure(app, f"er_{pid}") is not None:
                    # Taken by a node that still had the person's id cached after the erase: not kept.
                    await self._store.delete_events_of(app, pid)
                    for listener in self.on_erased:
                        listener(app, pid)
                    return pid
                log.warning("events of %s/%s: no such profile", app, pid)
                return pid
            if profile.merged_into:
                await self._store.reassign_events(app, pid, profile.merged_into)
                pid = profile.merged_into
                continue
            change, transition = await self._change(config, profile, events, now)
            try:
                await self._store.update_audience_profile(app, pid, change)
            except ProfileMerged as merged:
                await self._store.reassign_events(app, pid, merged.into)
                pid = merged.into
                continue
            except AlreadyApplied as done:
                events = [e for e in events if e.eid not in done.eids]
                if not events:
                    return pid
                continue
            if transition is not None:
                await self._store.append_events([transition], {app: config.retention_ms})
                self.transitions += 1
                self._stored([transition])
            return pid
        raise RuntimeError(
            f"events of {app}/{pid}: still changing after {_MERGE_HOPS * 2} tries; applied later"
        )

    async def mark_applied(self, app: str, eids: Sequence[str]) -> None:
        """Mark events whose change was made (or found made) as applied (``mark_events_applied``)."""
        await self._store.mark_events_applied(app, eids)

    async def _change(
        self, config: EventsConfig, profile: AudienceProfile, events: Sequence[Event], now: int
    ) -> tuple[ProfileChange, Event | None]:
        counts = Counter(f"count:{e.name}" for e in events)
        set_tags, remove_tags = await self._rule_tags(config, profile, now, events)
        computed: dict[str, float | str | None] = {}
        transition = None
        activity = set(config.activity_events())
        active = [e.ts for e in events if e.name in activity]
        if active:
            first = int(min(float(profile.computed.get("first_active", 0) or 0) or min(active), min(active)))
            last = int(max(float(profile.computed.get("last_active", 0) or 0), max(active)))
            computed["first_active"] = first
            computed["last_active"] = last
            previous = str(profile.computed.get("lifecycle", ""))
            since = int(float(profile.computed.get("lifecycle_since", 0) or 0))
            stage = lifecycle_stage(
                first_ts=first, last_ts=last, previous=previous, since=since, now=now, th=config.lifecycle
            )
            if stage != previous:
                computed["lifecycle"] = stage
                computed["lifecycle_since"] = now
                transition = transition_event(profile.app, profile.pid, previous, since, stage, now)
        change = ProfileChange(
            now=now,
            actor="rule",
            set_tags=tuple(set_tags),
            remove_tags=tuple(remove_tags),
            computed=computed,
            counts={k: float(v) for k, v in counts.items()},
            events=tuple(e.eid for e in events),
        )
        return change, transition

    async def _rule_tags(
        self, config: EventsConfig, profile: AudienceProfile, now: int, fresh: Sequence[Event] | None = None
    ) -> tuple[list[TagRecord], list[str]]:
        """Rule tags to set and remove. With ``fresh`` events (applying them), only the tags those
        events count toward are evaluated, each over its own events (the store filters the window
        by the rule's ``where`` and the group's value): a profile's views of other categories are
        not read again, and events no rule counts read nothing. Without (the pass), everything."""
        set_tags: list[TagRecord] = []
        remove_tags: list[str] = []
        for rule in config.rules:
            scopes: dict[str, dict[str, str | float | bool]] = {}
            if fresh is None:
                scopes[""] = dict(rule.where)
            else:
                for e in fresh:
                    tag = rule_tag(rule, e)
                    if tag is not None and rule.group_by:
                        scopes[tag] = {**rule.where, rule.group_by: e.props[rule.group_by]}
                    elif tag is not None:
                        scopes[tag] = dict(rule.where)
            for tag, where in scopes.items():
                window = await self._store.events_of(
                    profile.app, profile.pid, names=[rule.event], since=now - rule.window_ms, until=now + 1,
                    limit=RULE_EVENTS_MAX, props=where,
                )  # fmt: skip
                scope = None if fresh is None else {tag}
                plan = plan_rule_tags(rule, evaluate_rule(rule, window, now), profile.tags, now, scope)
                set_tags += plan[0]
                remove_tags += plan[1]
        return set_tags, remove_tags

    async def recheck(self, config: EventsConfig, app: str, pid: str, now: int) -> None:
        """Re-evaluate every rule and the time-driven lifecycle stage of one profile (the
        scheduled pass): rule tags that lapsed are removed (with a history line), an idle
        profile moves to ``at-risk`` / ``churned``."""
        profile = await self._store.get_audience_profile(app, pid)
        if profile is None or profile.merged_into:
            return
        set_tags, remove_tags = await self._rule_tags(config, profile, now)
        computed: dict[str, float | str | None] = {}
        transition = None
        last = int(float(profile.computed.get("last_active", 0) or 0))
        previous = str(profile.computed.get("lifecycle", ""))
        if last:
            since = int(float(profile.computed.get("lifecycle_since", 0) or 0))
            first = int(float(profile.computed.get("first_active", 0) or 0))
            stage = lifecycle_stage(
                first_ts=first, last_ts=last, previous=previous, since=since, now=now, th=config.lifecycle
            )
            if stage != previous:
                computed = {"lifecycle": stage, "lifecycle_since": now}
                transition = transition_event(app, pid, previous, since, stage, now)
        if not (set_tags or remove_tags or computed):
            return
        change = ProfileChange(
            now=now, actor="rule", set_tags=tuple(set_tags), remove_tags=tuple(remove_tags), computed=computed
        )
        try:
            await self._store.update_audience_profile(app, pid, change)
        except ProfileMerged:
            return  # the survivor is rechecked on its own
        if transition is not None:
            await self._store.append_events([transition], {app: config.retention_ms})
            self.transitions += 1
            self._stored([transition])
