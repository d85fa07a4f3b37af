"""The scheduled audience pass of one app: retention sweep, RFM scores, lifecycle by time, lapsed rule tags.

**Why RFM is scheduled, not incremental.** Scores are quintiles of the whole app: one purchase
moves the cut-offs, and so possibly everyone's score. Rescoring everyone per purchase costs a
write per profile per purchase; keeping per-event deltas exact is not possible. So the pass
pages through the app's purchase totals computed *in the store* (``event_totals``: count, sum
of the amount and last time per profile, over ``window_days``), keeps three numbers per
profile in compact arrays (24 bytes a profile: 24 MB for a million) to cut quintiles, then
writes ``rfm_r`` / ``rfm_f`` / ``rfm_m`` (1–5) to each profile whose scores changed. Between
passes, scores are at most ``audience_pass_interval`` old.

The lifecycle stage moves on every activity event (a return is seen at once); only time moves
it otherwise (active → at-risk → churned), which this pass does for the profiles whose last
activity passed a threshold. It also removes rule tags that lapsed (the tag's ``expires`` hid
it already; the removal adds the history line).
"""

from __future__ import annotations

import asyncio
import logging
from array import array
from dataclasses import dataclass
from typing import Protocol

from parley.server.audience_models import ProfileChange, ProfileMerged
from parley.server.events_schema import EventsConfig
from parley.server.events_scores import quintile_edges, rfm_score
from parley.server.ids import new_id, now_ms
from parley.server.services.app_passes import each_app
from parley.server.services.behaviour import Derivations
from parley.server.services.events import EventService, EventStore
from parley.server.store_ports import Directory

__all__ = ["AudiencePass", "PassReport", "PassStore"]

log = logging.getLogger("parley.events")

_DAY_MS = 86_400_000
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass over one app did."""

    purged: int = 0
    scored: int = 0
    rechecked: int = 0


class PassStore(EventStore, Directory, Protocol):
    """The roles the pass uses: the event service's, and the directory (to list the apps)."""


def _may_change(config: EventsConfig, age: int, idle: int) -> bool:
    """Whether time alone may have changed a profile first active ``age`` and last ``idle`` ms
    ago since the last passes: a lifecycle threshold crossed (within a week's slack, so a pass
    missed for days still catches up), or a rule window that may have emptied."""
    th, week = config.lifecycle, 7 * _DAY_MS
    crossed = any(
        limit <= passed < limit + week
        for limit, passed in (
            (th.new_days * _DAY_MS, age),
            (th.at_risk_days * _DAY_MS, idle),
            (th.churn_days * _DAY_MS, idle),
        )
    )
    windows = max((r.window_ms for r in config.rules), default=-1)
    return crossed or idle <= windows + _DAY_MS


class AudiencePass:
    """Runs the scheduled pass over an app (see the module docstring)."""

    def __init__(self, store: PassStore, events: EventService) -> None:
        self._store = store
        self._events = events
        self._derive: Derivations = events.derivations
        #: This node's name as a lease owner (one per process: a restarted node is a new owner).
        self._owner = new_id("pass")

    async def loop(self, interval: float) -> None:
        """Run the pass over every app every ``interval`` seconds, until cancelled. Every node
        loops, but each app's pass runs on the node holding its lease (``run_leased``, leased
        for one interval): the others skip that app, and take it over one interval after its
        holder died. A pass that outlasts its lease may overlap another node's: harmless, each
        step is idempotent (transition events by id, scores and tags compared first). A failing
        app is logged and skipped."""
        lease_ms = max(1, int(interval * 1000))
        while True:
            await asyncio.sleep(interval)
            await each_app(
                self._store.list_apps,
                lambda app: self.run_leased(app, now_ms(), lease_ms=lease_ms),
                "audience pass",
                log,
            )

    async def run_leased(self, app: str, now: int, *, lease_ms: int) -> PassReport | None:
        """:meth:`run` if this node takes or renews the app's pass lease (``lease_pass``) for
        ``lease_ms``; None when another node holds it."""
        if not await self._store.lease_pass(app, "audience", owner=self._owner, now=now, lease_ms=lease_ms):
            return None
        return await self.run(app, now)

    async def run(self, app: str, now: int) -> PassReport:
        """One pass over ``app`` at ``now`` (after the events stored so far are applied)."""
        await self._events.flush()
        config = await self._events.config(app)
        scored = await self._rfm(app, now) if config.rfm is not None else 0
        rechecked = 0
        names = config.activity_events()
        if names or config.rules:
            watched = tuple(sorted({*names, *(r.event for r in config.rules)}))
            after = ""
            while True:
                page = await self._store.event_totals(app, watched, after_pid=after, limit=_PAGE)
                for t in page:
                    if _may_change(config, now - t.first_ts, now - t.last_ts):
                        await self._derive.recheck(config, app, t.pid, now)
                        rechecked += 1
                if len(page) < _PAGE:
                    break
                after = page[-1].pid
        purged = 0
        while True:  # bounded deletes: the write lock is never held long
            n = await self._store.purge_events(app, now - config.retention_ms, limit=10_000)
            purged += n
            if n < 10_000:
                break
        return PassReport(purged, scored, rechecked)

    async def _rfm(self, app: str, now: int) -> int:
        config = await self._events.config(app)
        rfm = config.rfm
        assert rfm is not None
        pids: list[str] = []
        recency, frequency, monetary = array("d"), array("d"), array("d")
        after = ""
        while True:
            page = await self._store.event_totals(
                app,
                [rfm.event],
                rfm.amount,
                since=now - rfm.window_days * _DAY_MS,
                after_pid=after,
                limit=_PAGE,
            )
            for t in page:
                pids.append(t.pid)
                recency.append(t.last_ts)
                frequency.append(t.count)
                monetary.append(t.total)
            if len(page) < _PAGE:
                break
            after = page[-1].pid
        edges = [quintile_edges(sorted(values)) for values in (recency, frequency, monetary)]
        scored = 0
        for i, pid in enumerate(pids):
            scores = {
                key: float(rfm_score(values[i], cut))
                for key, values, cut in zip(
                    ("rfm_r", "rfm_f", "rfm_m"), (recency, frequency, monetary), edges, strict=True
                )
            }
            profile = await self._store.get_audience_profile(app, pid)
            if (
                profile is None
                or profile.merged_into
                or all(profile.computed.get(k) == v for k, v in scores.items())
            ):
                continue
            try:
                await self._store.update_audience_profile(
                    app, pid, ProfileChange(now=now, actor="rfm", computed=dict(scores))
                )
            except ProfileMerged:
                continue  # its events move to the survivor, scored next pass
            scored += 1
        return scored
