"""Taking events: SDK ``track`` (one event of the signed-in user) and the admin batch ingest.

The path of an event: resolve the profile of the chat user (identifier kind ``user``, created
on first sight) → validate against the app's declared schema (:mod:`parley.server.events_schema`)
→ store (idempotent by event id) → answer → apply it to the profile in the background
(:mod:`.applier` + :mod:`.behaviour`: counters, rule tags, lifecycle; coalesced per profile,
bounded). ``track`` calls are group-committed like message sends
(:class:`~parley.server.coalesce.Coalescer`): while one ``append_events`` is in flight the next
events queue, and the following call takes them all (up to ``MAX_EVENT_BATCH``). :meth:`EventService.flush`
waits until everything stored was applied.

An ingest batch is validated whole before anything is stored: one bad event refuses the batch
with its code and index (``events.3: ...``) and nothing is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.proto.errors import ErrorCode
from parley.server.audience_models import USER_KIND, Identifier
from parley.server.audience_port import Identities
from parley.server.coalesce import Coalescer
from parley.server.errors import ServiceError
from parley.server.events_models import MAX_EVENT_BATCH, Event
from parley.server.events_schema import EventLimits, EventsConfig, parse_events_config, validate_event
from parley.server.events_scores import SchemaError
from parley.server.ids import IdSequence, now_ms
from parley.server.services.applier import ProfileApplier
from parley.server.services.behaviour import BehaviourStore, Derivations
from parley.server.services.identity_values import normalise

__all__ = ["EventInput", "EventService", "EventStore", "Tracked"]

log = logging.getLogger("parley.events")

#: Profiles of chat users remembered per node (user -> pid); a merge is repaired on write.
_PID_CACHE = 100_000


class EventStore(BehaviourStore, Identities, Protocol):
    """The roles the event service uses: event log, audience profiles (and schema), identities."""


@dataclass(frozen=True, slots=True)
class EventInput:
    """One event to take: ``name`` and ``props`` of the person holding identifier ``kind`` /
    ``user`` (default: the app's user id) at ``ts`` (None: now); ``eid``
    is its idempotency key ("" lets the server make one: then a retry may store it twice)."""

    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    ts: int | None = None
    eid: str = ""
    user: str = ""
    kind: str = USER_KIND


@dataclass(frozen=True, slots=True)
class Tracked:
    """What became of one event: its id, the profile it went to, and ``stored`` (False: an event
    with this id was stored before, this one was ignored)."""

    eid: str
    pid: str
    stored: bool


class EventService:
    """Validates, stores and applies events (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        *,
        limits: EventLimits,
        batch_max: int = MAX_EVENT_BATCH,
        default_retention_days: int = 365,
        config_ttl: float = 5.0,
        max_pending: int = 10_000,
    ) -> None:
        self._store = store
        self._limits = limits
        self._batch_max = min(batch_max, MAX_EVENT_BATCH)
        self._retention_days = default_retention_days
        self._config_ttl = config_ttl
        self._configs: dict[str, tuple[float, EventsConfig]] = {}
        self._pids: dict[tuple[str, str], str] = {}
        #: Refuses an erased person's identifiers (set by ``build_services``; None: no check).
        self.erased_check: Callable[[str, list[Identifier]], Awaitable[None]] | None = None
        self._ids = IdSequence("ev")
        self._pending: Coalescer[Event, bool] = Coalescer(self._write, max_batch=MAX_EVENT_BATCH)
        #: The derivations (counters, rule tags, lifecycle) applied after storing.
        self.derivations = Derivations(store)
        #: Batches written by ``track`` (observability and tests).
        self.batches = 0
        #: Applies stored events to their profiles, in the background (see ``applier``).
        self.applier = ProfileApplier(self.derivations, self.config, max_pending=max_pending)
        self.applier.on_moved.append(self._moved)
        self.derivations.on_erased.append(self._erased)
        #: Called with ``(app, pids)`` after events of those profiles were stored and applied
        #: (the segment service re-checks their dynamic segments). Must not block.
        self.on_applied = self.applier.on_applied
        #: Called with the newly stored events of each track/ingest write (journeys start and wake
        #: on them). Must not block.
        self.on_stored: list[Callable[[Sequence[Event]], None]] = []
        self.derivations.on_stored = self.on_stored  # lifecycle transitions too (one list)

    def _moved(self, app: str, old: str, new: str) -> None:
        """A profile turned out merged: the users cached on it now resolve to the survivor."""
        for key, cached in list(self._pids.items()):
            if cached == old and key[0] == app:
                self._pids[key] = new

    def _erased(self, app: str, pid: str) -> None:
        """Events reached an erased profile: forget it, so the next event of the person is checked."""
        for key in [k for k, cached in self._pids.items() if cached == pid and k[0] == app]:
            del self._pids[key]

    def forget_pids(self, app: str) -> None:
        """Drop the app's cached user → profile ids (a person of the app was erased)."""
        for key in [k for k in self._pids if k[0] == app]:
            del self._pids[key]

    async def flush(self) -> None:
        """Wait until every stored event was applied to its profile (counters, tags, stage)."""
        await self.applier.flush()

    @property
    def batch_max(self) -> int:
        """Most events one ingest call takes (``batch_too_large`` past it)."""
        return self._batch_max

    async def config(self, app: str) -> EventsConfig:
        """The app's events configuration (its schema's events part), cached ``config_ttl`` s.

        A stored schema whose events part no longer parses (written by an older server) counts
        as declaring no events, and is logged."""
        hit = self._configs.get(app)
        clock = time.monotonic()
        if hit is not None and hit[0] > clock:
            return hit[1]
        stored = await self._store.get_audience_schema(app)
        try:
            config = parse_events_config(
                stored[1] if stored else {}, default_retention_days=self._retention_days
            )
        except SchemaError as exc:
            log.error("app %s: its schema's events part is invalid (%s); no events accepted", app, exc)
            config = EventsConfig(retention_days=self._retention_days)
        self._configs[app] = (clock + self._config_ttl, config)
        return config

    def forget(self, app: str) -> None:
        """Drop the cached configuration of ``app`` (its schema changed on this node)."""
        self._configs.pop(app, None)

    async def _pid(self, app: str, user: str, now: int, kind: str = USER_KIND) -> str:
        key = (app, user) if kind == USER_KIND else (app, f"{kind}\x00{user}")
        pid = self._pids.get(key)
        if pid is None:
            if self.erased_check is not None:
                await self.erased_check(app, [Identifier(kind, user)])
            pid, _ = await self._store.resolve_or_create(app, kind, user, now)
            if len(self._pids) >= _PID_CACHE:
                self._pids.clear()
            self._pids[key] = pid
        return pid

    def _event(self, app: str, config: EventsConfig, item: EventInput, pid: str, now: int) -> Event:
        ts = now if item.ts is None else item.ts
        props = validate_event(config, item.name, item.props, ts, now, self._limits)
        return Event(app, item.eid or self._ids.next(), pid, item.name, ts, props, now)

    async def _checked(self, app: str, item: EventInput, now: int) -> Event:
        """``item`` validated against the app's schema. An unknown name or property is checked
        again against the schema as stored now: a declaration made a moment ago on another
        node (or by this node's schema endpoint) is not refused for the cache's sake."""
        try:
            return self._event(app, await self.config(app), item, "", now)
        except ServiceError as exc:
            if exc.code not in (ErrorCode.EVENT_UNKNOWN, ErrorCode.EVENT_INVALID):
                raise
            self.forget(app)
            return self._event(app, await self.config(app), item, "", now)

    async def track(self, app: str, user: str, item: EventInput) -> Tracked:
        """Take one event of chat user ``user`` (SDK ``track``); group-committed with others.

        Raises ``ServiceError`` (``event_unknown``, ``event_invalid``, ``event_too_old``,
        ``event_in_future``) with nothing stored, or ``StoreUnavailable``."""
        now = now_ms()
        event = await self._checked(app, item, now)  # validate before creating a profile
        pid = await self._pid(app, user, now)
        event = Event(app, event.eid, pid, event.name, event.ts, event.props, event.received)
        stored = await self._pending.submit(event)
        return Tracked(event.eid, pid, stored)

    async def ingest(self, app: str, items: Sequence[EventInput]) -> list[Tracked]:
        """Take a batch from the admin API: all validated first (the first bad one refuses the
        batch: its code, message prefixed ``events.<i>``; nothing stored), then stored in one
        call and applied. Each item names its person (``user``, or another identifier ``kind``,
        normalised: ``identifier_invalid`` refuses the batch) and carries its ``eid``."""
        if len(items) > self._batch_max:
            raise ServiceError(ErrorCode.BATCH_TOO_LARGE, f"at most {self._batch_max} events per request")
        now = now_ms()
        checked: list[Event] = []
        region = (await self.config(app)).default_region
        people: list[tuple[str, str]] = []  # (kind, normalised value) per item
        for i, item in enumerate(items):
            try:
                if not item.eid or not item.user:
                    raise ServiceError(ErrorCode.EVENT_INVALID, "eid and user (or identifier) are required")
                who = (
                    item.kind,
                    normalise(item.kind, item.user, region).value if item.kind != USER_KIND else item.user,
                )
                checked.append(await self._checked(app, item, now))
                people.append(who)
            except ServiceError as exc:
                raise ServiceError(exc.code, f"events.{i}: {exc.message}") from exc
        pids = {who: await self._pid(app, who[1], now, who[0]) for who in sorted(set(people))}
        events = [
            Event(app, e.eid, pids[who], e.name, e.ts, e.props, e.received)
            for e, who in zip(checked, people, strict=True)
        ]
        stored = await self._store_and_apply(events)
        return [Tracked(e.eid, e.pid, s) for e, s in zip(events, stored, strict=True)]

    async def events_of_user(
        self, app: str, user: str, *, after: tuple[int, str] | None = None, limit: int = 100
    ) -> list[Event]:
        """A page of the events of chat user ``user``'s profile, oldest first (``(ts, eid) > after``);
        none if the user has no profile."""
        pid = await self._store.resolve_identifier(app, USER_KIND, user)
        if pid is None:
            return []
        return await self._store.events_of(app, pid, after=after, limit=limit)

    async def _write(self, batch: Sequence[Event]) -> Sequence[bool | Exception]:
        self.batches += 1
        return await self._store_and_apply(batch)

    async def _store_and_apply(self, events: Sequence[Event]) -> list[bool]:
        """Store ``events`` (one write) and queue the new ones to be applied to their profiles."""
        retention = {e.app: (await self.config(e.app)).retention_ms for e in events}
        stored = await self._store.append_events(events, retention, pending=True)
        fresh = [e for e, s in zip(events, stored, strict=True) if s]
        await self.applier.submit(fresh)
        for listener in self.on_stored:
            listener(fresh)
        return stored
