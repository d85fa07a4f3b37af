"""The event log part of the store port: what people did, per app and profile.

A role port of its own, like :class:`~parley.server.invites_port.InvitationStore`.
Adapters: ``store/sqlite_events.py`` (table ``aud_events``) and ``store/mongo_events.py``
(collection ``aud_events``, TTL index on ``expire_at``), role classes of the SQLite and
MongoDB stores; ``tests/server/store/test_events_contract.py`` runs against both. The
layout is the agreed one (``notes``: audience design) that segments compile against.

Guarantees (both adapters):

* Everything is keyed by app: no call ever sees, moves or deletes another app's events.
* ``append_events`` is idempotent by ``(app, eid)``: the first event stored under an id
  stays; a later one with the same id (in the same batch or another call, on one store
  instance or several at once) is not stored and is reported ``False``. A retry after a
  timeout therefore never stores an event twice.
* A batch is bounded: more than :data:`~parley.server.events_models.MAX_EVENT_BATCH`
  events in one call raise ``ValueError`` and store nothing.
* SQLite stores a batch in one transaction (all or nothing); MongoDB inserts it unordered
  in one call (each event stands alone: a failure part-way leaves the others stored, and
  the retry is idempotent).
* Reads are ordered by ``(ts, eid)`` ascending and paged by that pair (``after``), so a
  page boundary never repeats or skips an event, even among events of the same ``ts``;
  ``since <= ts < until``.
* ``reassign_events`` moves every event of one profile to another (a One ID merge);
  afterwards reads by the old pid see none. It is idempotent, so a merge racing with an
  ingest is repaired by calling it again (the service does, when it finds the profile merged).
* Every event keeps the pid it was first stored under (its *origin*, never changed by a move;
  rows stored before origins existed take their pid when the store opens), so
  ``restore_events`` undoes moves exactly: an unmerge gives back the events first stored for
  the merged profile (and for the profiles merged into it before), while events stored for the
  survivor, before or after the merge, stay with it.
* Application (crash safety): events stored with ``pending=True`` (the ones ``track`` and ingest
  take) wait to be applied to their profile; ``pending_events`` lists them oldest first by
  ``received`` and ``mark_events_applied`` ends their wait. Events stored before the mark
  existed count as applied. A profile change naming the events it applies
  (``ProfileChange.events``) is made at most once per event (``AlreadyApplied``, see
  :mod:`~parley.server.audience_port`): SQLite marks them in the change's transaction; MongoDB
  records their ids on the profile document and is marked after. A move (``reassign_events``)
  keeps the mark; an erase or a purge deletes pending events like any other.
* Retention: ``purge_events`` deletes events with ``ts < before`` (the app's retention
  sweep, which the SQLite adapter needs and MongoDB uses when the retention was shortened).
  MongoDB also expires each event by itself: ``expire_at`` is ``ts + retention`` (the
  app's retention at ingest, ``retention_ms``), under a TTL index (the server's TTL monitor
  runs about once a minute).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from parley.server.events_models import Event, EventTotals

__all__ = ["MAX_TS", "EventLog"]

#: An upper bound for ``until`` meaning "no end" (ms; year 10 000).
MAX_TS = 253_402_300_800_000


class EventLog(Protocol):
    """Durable events keyed by ``(app, eid)``. Every method may raise ``StoreUnavailable``."""

    async def append_events(
        self, events: Sequence[Event], retention_ms: Mapping[str, int] | None = None, *, pending: bool = False
    ) -> list[bool]:
        """Store each event unless its ``(app, eid)`` is stored already; per event, in order,
        whether it was stored now (``False``: a duplicate, ignored). ``retention_ms`` maps an
        app to how long its events are kept (MongoDB's ``expire_at``; absent or 0: no expiry).
        ``pending``: the events still have to be applied to their profiles (``pending_events``).
        Raises ``ValueError`` past ``MAX_EVENT_BATCH`` events (nothing stored)."""

    async def pending_events(self, app: str, *, before: int, limit: int = 1000) -> list[Event]:
        """Up to ``limit`` of the app's pending events received before ``before``, ascending by
        ``(received, eid)``."""

    async def mark_events_applied(self, app: str, eids: Collection[str]) -> int:
        """Mark the app's events ``eids`` applied (no longer pending; unknown ids are ignored);
        returns how many were pending. Idempotent."""

    async def get_event(self, app: str, eid: str) -> Event | None:
        """The event stored under ``eid``; None if there is none."""

    async def events_of(
        self,
        app: str,
        pid: str,
        *,
        names: Collection[str] = (),
        since: int = 0,
        until: int = MAX_TS,
        after: tuple[int, str] | None = None,
        limit: int = 100,
        props: Mapping[str, str | float | bool] | None = None,
    ) -> list[Event]:
        """Up to ``limit`` events of profile ``pid`` (of ``names`` if given) with
        ``since <= ts < until`` and ``(ts, eid) > after``, ascending by ``(ts, eid)``; with
        ``props``, only events whose property ``k`` equals ``v`` for each pair (a superset on
        SQLite, whose JSON ``true`` equals ``1``: a caller that cares re-checks the type)."""

    async def events_named(
        self,
        app: str,
        name: str,
        *,
        since: int = 0,
        until: int = MAX_TS,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """Up to ``limit`` events called ``name`` (any profile) with ``since <= ts < until`` and
        ``(ts, eid) > after``, ascending by ``(ts, eid)``."""

    async def count_events(
        self, app: str, pid: str, name: str, *, since: int = 0, until: int = MAX_TS
    ) -> int:
        """How many events ``name`` profile ``pid`` has with ``since <= ts < until``."""

    async def event_totals(
        self,
        app: str,
        names: Collection[str],
        prop: str = "",
        *,
        since: int = 0,
        after_pid: str = "",
        limit: int = 1000,
    ) -> list[EventTotals]:
        """Per profile with events of ``names`` since ``since``: their count, the sum of numeric
        property ``prop`` ("" sums nothing) and the first and latest ts; up to ``limit`` profiles
        with ``pid > after_pid``, ascending by pid (computed in the store: RFM and the lifecycle
        pass page through an app this way, never loading its events)."""

    async def reassign_events(self, app: str, from_pid: str, to_pid: str) -> int:
        """Move every event of ``from_pid`` to ``to_pid``; returns how many moved (idempotent)."""

    async def restore_events(self, app: str, from_pid: str, to_pid: str, origins: Collection[str]) -> int:
        """Move the events of ``from_pid`` whose origin (the pid first stored under) is one of
        ``origins`` to ``to_pid`` (an unmerge); returns how many moved (idempotent)."""

    async def purge_events(self, app: str, before: int, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` events with ``ts < before``; returns how many (call again
        while it returns ``limit``: a bounded delete keeps the write lock short)."""

    async def delete_events_of(self, app: str, pid: str) -> int:
        """Delete every event of profile ``pid`` (erasure); returns how many."""

    async def events_received(
        self,
        app: str,
        names: Collection[str],
        *,
        since: int,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """Up to ``limit`` events called one of ``names`` (any profile) *received* (stored) at or after
        ``since`` and with ``(received, eid) > after``, ascending by ``(received, eid)`` — on an
        ``(app, received)`` index: a catch-up pass finds late-``ts`` events stored after its watermark."""

    async def pass_mark(self, app: str, name: str) -> int:
        """The durable watermark of scheduled pass ``name`` over ``app`` (0: never set)."""

    async def advance_pass_mark(self, app: str, name: str, mark: int) -> None:
        """Raise the watermark of pass ``name`` over ``app`` to ``mark`` (never lowers it: atomic max)."""

    async def lease_pass(self, app: str, name: str, *, owner: str, now: int, lease_ms: int) -> bool:
        """Take or renew the lease of scheduled pass ``name`` over ``app`` until ``now + lease_ms``:
        True when ``owner`` holds it now (it was free, expired, or already ``owner``'s). Atomic
        across store instances: of concurrent claims at most one wins, so of many nodes one runs
        the pass of an app at a time, and another takes over once a dead holder's lease expired."""
