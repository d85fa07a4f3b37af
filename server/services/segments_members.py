"""Membership changes of dynamic segments: the ``segment_enter`` / ``segment_leave`` events.

A dynamic segment's stored members are its last evaluation. :class:`MembershipSync` compares
them with a fresh evaluation, writes the difference (``change_members`` reports only the rows it
really changed, so of two nodes doing the same work one emits each event) and appends one event
per change to the profile's events. Two ways in:

* :meth:`MembershipSync.touch` — profiles changed: after ``touch_delay`` seconds (so a burst of
  events is one check) their dynamic segments are evaluated for just those profiles
  (``segment_members_among``: the work follows the profiles, not the app);
* :meth:`MembershipSync.refresh` — time passed: the evaluated members and the stored ones are
  walked side by side in pid order, a page of each at a time (memory stays two pages).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from typing import Protocol

from parley.proto.segments import Rule
from parley.server.events_models import MAX_EVENT_BATCH, Event
from parley.server.events_port import EventLog
from parley.server.ids import now_ms
from parley.server.segments_port import EvalContext, SegmentsPort
from parley.server.store_ports import Directory

__all__ = ["MembershipSync", "membership_event"]

log = logging.getLogger("parley.segments")

#: Pids per page of the refresh walk, and changes written per store call.
PAGE = 1000
#: The dynamic segments of an app (only those with time-relative rules when asked), expanded.
Dynamic = Callable[[str, bool], Awaitable[list[tuple[str, Rule, EvalContext]]]]


class SyncStore(SegmentsPort, EventLog, Directory, Protocol):
    """The roles membership changes use."""


def membership_event(app: str, seg: str, pid: str, entered: bool, now: int) -> Event:
    """The ``segment_enter`` / ``segment_leave`` event of one change (``props: {"segment": id}``)."""
    name = "segment_enter" if entered else "segment_leave"
    return Event(app, f"seg.{seg}.{pid}.{name[8:]}.{now}", pid, name, now, {"segment": seg}, now)


class MembershipSync:
    """Finds and records membership changes (see the module docstring)."""

    def __init__(self, store: SyncStore, dynamic: Dynamic, *, touch_delay: float = 1.0) -> None:
        self._store = store
        self._dynamic = dynamic
        self._delay = touch_delay
        self._pending: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None
        #: Membership events appended so far (observability and tests).
        self.emitted = 0
        #: Called with each change's stored membership events (journeys start on them). Must not block.
        self.on_stored: list[Callable[[Sequence[Event]], None]] = []

    def touch(self, app: str, pids: Collection[str]) -> None:
        """Queue ``pids`` of ``app`` for a check after ``touch_delay`` (call from the event loop)."""
        if not pids:
            return
        self._pending.setdefault(app, set()).update(pids)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(self._delay)
            batch, self._pending = self._pending, {}
            for app, pids in batch.items():
                ordered = sorted(pids)
                for i in range(0, len(ordered), PAGE):
                    try:
                        await self.check(app, ordered[i : i + PAGE])
                    except Exception as exc:  # the scheduled refresh catches what this missed
                        log.warning("segment membership check of %s failed: %r", app, exc)

    async def close(self) -> None:
        """Drop queued touches and stop checking (node shutdown; the next refresh catches up)."""
        self._pending.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def flush(self) -> None:
        """Wait until every queued touch is checked (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def check(self, app: str, pids: Collection[str]) -> list[Event]:
        """Re-evaluate ``app``'s dynamic segments for ``pids`` now; record and emit the changes."""
        emitted: list[Event] = []
        for seg, rule, ctx in await self._dynamic(app, False):
            now_in = await self._store.segment_members_among(app, rule, ctx, pids)
            stored = await self._store.is_stored_member(app, seg, pids)
            emitted += await self._apply(app, seg, now_in - stored, (set(pids) & stored) - now_in)
        return emitted

    async def _apply(self, app: str, seg: str, enter: Collection[str], leave: Collection[str]) -> list[Event]:
        if not enter and not leave:
            return []
        added, removed = await self._store.change_members(app, seg, enter, leave)
        now = now_ms()
        events = [membership_event(app, seg, p, True, now) for p in added]
        events += [membership_event(app, seg, p, False, now) for p in removed]
        for i in range(0, len(events), MAX_EVENT_BATCH):
            await self._store.append_events(events[i : i + MAX_EVENT_BATCH])
        self.emitted += len(events)
        for listener in self.on_stored:
            listener(events)
        return events

    async def refresh(self, app: str, only_timed: bool = True) -> int:
        """Walk each dynamic segment's evaluation against its stored members; the changes found."""
        changes = 0
        for seg, rule, ctx in await self._dynamic(app, only_timed):
            evaluated = _pages(functools.partial(self._evaluated, app, rule, ctx))
            stored = _pages(functools.partial(self._stored, app, seg))
            enter: list[str] = []
            leave: list[str] = []
            x, y = await anext(evaluated, None), await anext(stored, None)
            while x is not None or y is not None:
                if y is None or (x is not None and x < y):
                    enter.append(x)  # type: ignore[arg-type]
                    x = await anext(evaluated, None)
                elif x is None or y < x:
                    leave.append(y)
                    y = await anext(stored, None)
                else:
                    x, y = await anext(evaluated, None), await anext(stored, None)
                if len(enter) + len(leave) >= PAGE:
                    changes += len(await self._apply(app, seg, enter, leave))
                    enter, leave = [], []
            changes += len(await self._apply(app, seg, enter, leave))
        return changes

    async def _evaluated(self, app: str, rule: Rule, ctx: EvalContext, after: str) -> list[str]:
        return await self._store.segment_page(app, rule, ctx, after, PAGE)

    async def _stored(self, app: str, seg: str, after: str) -> list[str]:
        return await self._store.stored_members(app, seg, after, PAGE)

    async def refresh_all(self) -> int:
        """:meth:`refresh` of every app's time-relative dynamic segments; a failing app is skipped."""
        total = 0
        for app in [a.app for a in await self._store.list_apps()]:
            try:
                total += await self.refresh(app)
            except Exception as exc:
                log.warning("segment refresh of %s failed: %r", app, exc)
        return total


async def _pages(fetch: Callable[[str], Awaitable[list[str]]]) -> AsyncIterator[str]:
    """The pids ``fetch(after)`` pages out, one page in memory at a time."""
    after = ""
    while page := await fetch(after):
        for pid in page:
            yield pid
        after = page[-1]
