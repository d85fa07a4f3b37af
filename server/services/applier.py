"""Applying stored events to their profiles in the background, coalesced per profile.

Storing an event is cheap (one batched insert: ~20 000 events/s on SQLite here); applying it to
its profile is not (read the profile, read each rule's window, one atomic profile change: about
1–2 ms per profile on SQLite's one worker thread). So ``track`` and ingest answer once the
events are **stored**, and this queue applies them: events of one profile that arrive while
earlier ones wait are applied together, by one profile change — a busy profile (a user
tracking many events, the same customer in several ingest batches) costs one change per round,
not one per event.

* **Order per profile.** A profile is taken out of the queue for one round at a time; events
  arriving meanwhile wait for the next round.
* **Bounded.** At most ``max_pending`` events wait; past it, storing waits for room
  (back-pressure), so a burst cannot grow memory without bound and the ingest rate settles at
  what the store can apply (``docs/BENCHMARKS.md``, *Event ingest*).
* **Crash-safe, each event counted once.** Events are stored *pending*; a round's profile
  change names its events and the store makes it at most once per event
  (``ProfileChange.events``, ``AlreadyApplied``), then the round marks them applied (one call
  per app; SQLite marks them inside the change's transaction already). A node that stops
  applies its queue within ``close`` (bounded); one that crashes (or whose change failed)
  leaves its events pending, and :class:`~parley.server.services.apply_recovery.ApplyRecovery`
  (every node, leased per app) re-queues events pending longer than a grace period here — on
  any node. Recovery racing a slow node applying the same events is harmless: the second
  change is refused per event. The one window, MongoDB only: an event applied to a profile
  whose node then died before the mark is recognised by the last ``APPLIED_KEEP`` (512) event
  ids kept on that profile; if that profile takes 512 further events before the recovery
  reaches it (grace + one interval), it is counted twice (docs/AUDIENCE.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence

from parley.server.events_models import Event
from parley.server.events_schema import EventsConfig
from parley.server.ids import now_ms
from parley.server.services.behaviour import Derivations

__all__ = ["ProfileApplier"]

log = logging.getLogger("parley.events")

#: Profiles applied together in one round (their changes run concurrently: one worker hop).
ROUND_MAX = 256


class ProfileApplier:
    """The queue of stored events waiting to be applied (see the module docstring)."""

    def __init__(
        self,
        derivations: Derivations,
        config: Callable[[str], Awaitable[EventsConfig]],
        *,
        max_pending: int = 10_000,
    ) -> None:
        self._derive = derivations
        self._config = config
        self._max_pending = max_pending
        self._pending: dict[tuple[str, str], list[Event]] = {}
        self._waiting = 0  # events in _pending
        self._task: asyncio.Task[None] | None = None
        self._room = asyncio.Event()
        #: Called with ``(app, pids)`` after events of those profiles were applied. Must not block.
        self.on_applied: list[Callable[[str, Collection[str]], None]] = []
        #: Called with ``(app, old_pid, new_pid)`` when a profile turned out merged.
        self.on_moved: list[Callable[[str, str, str], None]] = []
        #: Rounds and profile changes made (observability and tests).
        self.rounds = 0
        self.applied = 0

    @property
    def pending(self) -> int:
        """Events waiting."""
        return self._waiting

    async def submit(self, events: Sequence[Event]) -> None:
        """Queue newly stored ``events``; returns at once unless the queue is full (then when
        there is room again)."""
        for e in events:
            self._pending.setdefault((e.app, e.pid), []).append(e)
        self._waiting += len(events)
        if events and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="parley-events-apply")
        while self._waiting > self._max_pending:
            self._room.clear()
            await self._room.wait()

    def drop(self) -> int:
        """Forget everything queued without applying it (what a crash does: the events stay
        pending in the store for the recovery); returns how many events were dropped."""
        dropped = self._waiting
        self._pending.clear()
        self._waiting = 0
        if self._task is not None:
            self._task.cancel()
        self._room.set()
        return dropped

    async def flush(self) -> None:
        """Wait until everything queued so far (and queued meanwhile) is applied."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self, timeout: float = 5.0) -> None:
        """Apply what is queued, for at most ``timeout`` seconds (then drop it, logged)."""
        try:
            await asyncio.wait_for(self.flush(), timeout)
        except TimeoutError:
            log.warning(
                "stopping with %d events not applied yet (pending: a recovery applies them)", self._waiting
            )
            if self._task is not None:
                self._task.cancel()

    async def _drain(self) -> None:
        while self._pending:
            keys = list(itertools.islice(self._pending, ROUND_MAX))
            taken = {k: self._pending.pop(k) for k in keys}
            self._waiting -= sum(len(b) for b in taken.values())
            # one event queued twice (by the live path and a recovery) is one event of the change
            batch = {k: list({e.eid: e for e in b}.values()) for k, b in taken.items()}
            if self._waiting <= self._max_pending:
                self._room.set()
            configs = {app: await self._config(app) for app, _ in keys}
            now = now_ms()
            outcomes = await asyncio.gather(
                *(self._derive.apply(configs[app], app, pid, batch[(app, pid)], now) for app, pid in keys),
                return_exceptions=True,
            )
            self.rounds += 1
            touched: dict[str, set[str]] = {}
            done: dict[str, list[str]] = {}
            for (app, pid), moved in zip(keys, outcomes, strict=True):
                if isinstance(moved, BaseException):
                    # stored is stored, and still pending: the recovery applies it later
                    log.error("events of %s/%s stored; applying them failed: %r", app, pid, moved)
                    continue
                done.setdefault(app, []).extend(e.eid for e in batch[(app, pid)])
                self.applied += 1
                touched.setdefault(app, set()).add(moved)
                if moved != pid:
                    for listener in self.on_moved:
                        listener(app, pid, moved)
            for app, eids in done.items():
                try:
                    await self._derive.mark_applied(app, eids)
                except Exception as exc:  # still pending: the recovery finds the changes made
                    log.warning("marking %d events of %s applied failed: %r", len(eids), app, exc)
            for app, pids in touched.items():
                for applied in self.on_applied:
                    applied(app, pids)
        self._room.set()
