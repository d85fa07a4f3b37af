"""Conversions attributed as goal events arrive (last touch), not searched for when results are read.

When an audience event is stored (the events service's ``on_stored``), :class:`ConversionAttributor`
looks at the campaigns of its app whose ``goal.event`` is the event's name. For the event's profile
it reads that profile's row in every send of the app (each campaign, each occurrence of a recurring
one: one keyed ledger read each) and credits the send ``S`` whose decision at ``t0`` *exposed* the
profile (sent, or would-have-sent: ``control`` / ``holdout``, or stopped after the control step),
with ``t0 <= ts < t0 + window_s`` — unless another send *touched* the profile (``sent``,
``control``, ``holdout``) in ``(t0, ts]``: **last touch**. A journey's send step is a touch too
(``sent`` only: journeys have no control group): the profile's runs started within the longest goal
window before the event (``runs_of_profile``, newest :data:`JOURNEY_RUNS` of them) are read, one keyed
ledger read per run and send step, only when a campaign send could be credited. A journey touch takes
the credit away from the campaign; the journey's own conversion is its goal (journey_steps.py). A credit is a ``converted`` row of the
measurement ledger (once per recipient and send, whoever counts it first; the profile gets the
``converted:<cid>`` tag), timed at the event's ``ts``.

Late and out-of-order events: the rule reads only the ledger rows and the event's own ``ts``, so
an event that arrives hours late, or before an earlier one, is credited exactly as if it had
arrived in order (the decisions it is compared with were recorded before it could arrive, as
long as ``ts`` is not in the future).

Crash safety: the listener runs after the store write and queues in memory, so a node killed in
between loses the credit but not the event. :meth:`ConversionAttributor.catch_up` recovers it: a
pass per app, leased (``lease_pass``: one node at a time), at node start and every
``conversion_catchup_interval`` seconds, that re-handles the goal events *received* (stored) since
the app's durable watermark (``pass_mark``, on an ``(app, received)`` index, so a late-``ts`` event
stored after the watermark is found) and then raises the watermark. Crediting is idempotent (a
``converted`` row is claimed once per recipient and send), so an event handled live and again by the
pass, or by two passes, is credited once. The pass looks :data:`SETTLE_MS` behind now (an event
being written with an earlier ``received`` is not passed over) and re-reads :data:`MARGIN_MS` before
the watermark (clock skew between nodes).

Cost: nothing for an event whose name is no campaign's goal (a per-app list of goals, re-read once
a second); for a goal event, one keyed ledger read per send of the app that can matter
(:func:`sends_at`: not one that ended more than the longest window, 90 days, before the event or
starts after it; of a recurring campaign, the occurrences open in that span), and writes only for
a credit. A results read then only counts rows (no per-recipient event search).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from parley.proto.journeys import Journey, Send, load_journey
from parley.server.activation_port import Delivery, DeliveryLedger
from parley.server.campaign_port import Campaign, CampaignStore
from parley.server.events_models import Event
from parley.server.ids import now_ms
from parley.server.journey_port import Run
from parley.server.services.app_passes import each_app
from parley.server.services.campaign_defs import MAX_GOAL_WINDOW_S, CampaignIn, pick_variant
from parley.server.services.campaign_schedule import occurrence_start, send_key, split_cursor
from parley.server.services.measurement import CONTROL_ARM, Measurement
from parley.server.services.policy_rules import bucket
from parley.server.shutdown import bounded, stop_task

__all__ = [
    "CONTROL_STATES", "EXPOSED", "JOURNEY_RUNS", "MARGIN_MS", "PASS", "SETTLE_MS", "TOUCHES", "ConversionAttributor", "arm_of",
    "sends_at", "sends_of",
]  # fmt: skip

log = logging.getLogger("parley.marketing")

#: The decisions of the control group.
CONTROL_STATES = frozenset({"control", "holdout"})
#: Decisions after the control step: assigned to a variant (intent-to-treat), whether sent or not.
TREATED_STATES = frozenset(
    {"sent", "suppressed_support", "suppressed_sentiment", "quiet_deferred", "quiet_dropped",
     "local_deferred", "template_value_missing", "capped", "failed"}
)  # fmt: skip
#: Who is in the uplift comparison.
EXPOSED = CONTROL_STATES | TREATED_STATES
#: Decisions that count as a touch for last-touch attribution.
TOUCHES = frozenset({"sent", "control", "holdout"})
#: The catch-up pass's name (its lease and watermark).
PASS = "conversions"
#: How far behind now the catch-up reads: an event being stored with an earlier ``received`` is
#: committed by then (ms).
SETTLE_MS = 10_000
#: How far before its watermark the catch-up re-reads (clock skew between the storing nodes, ms).
MARGIN_MS = 60_000
#: Goal events one catch-up pass of one app handles at most (the next pass goes on from there).
_CATCHUP_BATCH = 2_000
#: The newest runs of a profile whose send steps count as touches for one goal event.
JOURNEY_RUNS = 50
_PAGE = 500


def sends_of(campaign: Campaign) -> list[str]:
    """The send keys of ``campaign``: its own, or one per occurrence opened so far."""
    if campaign.doc.get("recurrence") is None:
        return [send_key(campaign.cid, None)]
    return [send_key(campaign.cid, n) for n in range(split_cursor(campaign.cursor)[0] + 1)]


def sends_at(campaign: Campaign, definition: CampaignIn, ts: int) -> list[str]:
    """The sends of ``campaign`` that can hold a decision made in the longest goal window before ``ts``
    (a credit for an event at ``ts``, or a later touch taking it): none of a campaign that ended
    before that window or starts after ``ts``; of a recurring one, the occurrences open in it."""
    horizon = ts - MAX_GOAL_WINDOW_S * 1000
    if campaign.state in ("done", "cancelled") and campaign.updated < horizon:
        return []
    r = definition.recurrence
    if r is None:
        return [] if campaign.start_at > ts else [send_key(campaign.cid, None)]
    out = []
    for n, key in enumerate(sends_of(campaign)):
        opened = occurrence_start(r, definition.start_at, n)
        if opened is None or opened > ts:
            break
        closed = occurrence_start(r, definition.start_at, n + 1)  # its decisions come before the next opens
        if closed is None or closed >= horizon:
            out.append(key)
    return out


def arm_of(definition: CampaignIn, cid: str, row: Delivery) -> str:
    """``control`` for the control group, else the variant the stable hash gives the recipient."""
    if row.state in CONTROL_STATES:
        return CONTROL_ARM
    return pick_variant(definition.variants, bucket(f"variant:{cid}", row.pid)).id


class _Passes(Protocol):
    async def events_received(
        self,
        app: str,
        names: Sequence[str],
        *,
        since: int,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Event]: ...

    async def pass_mark(self, app: str, name: str) -> int: ...

    async def advance_pass_mark(self, app: str, name: str, mark: int) -> None: ...

    async def lease_pass(self, app: str, name: str, *, owner: str, now: int, lease_ms: int) -> bool: ...

    async def list_apps(self) -> Sequence[Any]: ...

    async def runs_of_profile(self, app: str, pid: str, *, since: int, limit: int) -> list[Run]: ...

    async def journey_doc(self, app: str, jid: str, version: int) -> dict[str, Any] | None: ...


class AttributionStore(DeliveryLedger, CampaignStore, _Passes, Protocol):
    """The store roles attribution reads (and the catch-up pass's events, lease and watermark)."""


class ConversionAttributor:
    """The events listener that credits conversions (module docstring)."""

    def __init__(
        self, store: AttributionStore, measure: Measurement, *, ttl: float = 1.0, owner: str = "",
        lease_ms: int = 60_000,
    ) -> None:  # fmt: skip
        self._store = store
        self._measure = measure
        self._ttl = ttl
        self._owner = owner or f"conv-{secrets.token_hex(6)}"
        self._lease_ms = lease_ms
        #: app -> (monotonic time read, its campaigns with their definitions).
        self._campaigns: dict[str, tuple[float, list[tuple[Campaign, CampaignIn]]]] = {}
        #: app -> times forgotten: a read that began before a :meth:`forget` is not cached.
        self._generation: dict[str, int] = {}
        self._queue: list[Event] = []
        self._task: asyncio.Task[None] | None = None
        #: (app, jid, version) -> its send steps (a version never changes).
        self._journey_sends: dict[tuple[str, str, int], list[str]] = {}
        #: Conversions credited by this node (tests, metrics).
        self.credited = 0

    def on_events(self, events: Sequence[Event]) -> None:
        """The events service's listener (on the loop; never blocks): queued, handled in order."""
        self._queue.extend(events)
        if events and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="parley-conversions")

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            for event in batch:
                try:
                    await self.handle(event)
                except Exception:  # one event's failure must not stop the others
                    log.exception("conversion of event %s/%s not attributed", event.app, event.eid)

    async def drain(self) -> None:
        """Wait until the queued events are attributed (shutdown, tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self, timeout: float = 5.0) -> None:
        """Shutdown: attribute what is queued for at most ``timeout`` s, then stop (even with the store
        gone: what is left is logged and dropped — the events themselves are stored)."""
        if not await bounded(self.drain(), "attributing conversions", timeout):
            if self._queue:
                log.warning("shutdown: %d events left unattributed", len(self._queue))
            self._queue.clear()
            await stop_task(self._task, "attributing conversions", timeout=1.0)

    def forget(self, app: str) -> None:
        """The app's campaigns changed on this node (one was created): read them afresh next time.

        Without it a goal event arriving within ``ttl`` of a read that predates the campaign was
        judged against the old list and credited only by the next catch-up pass. A campaign
        created on another node is still seen within ``ttl`` (the catch-up pass credits what
        arrived meanwhile)."""
        self._generation[app] = self._generation.get(app, 0) + 1
        self._campaigns.pop(app, None)

    async def _of(self, app: str) -> list[tuple[Campaign, CampaignIn]]:
        cached = self._campaigns.get(app)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        generation = self._generation.get(app, 0)
        found = [(c, msgspec.convert(c.doc, CampaignIn)) for c in await self._store.list_campaigns(app)]
        if self._generation.get(app, 0) == generation:  # not forgotten while reading: still current
            self._campaigns[app] = (time.monotonic(), found)
        return found

    async def handle(self, event: Event) -> int:
        """Credit ``event`` to the send it converts, if any; how many credits were new (0 or 1)."""
        if not any(d.goal is not None and d.goal.event == event.name for _, d in await self._of(event.app)):
            return 0
        # Read afresh: the cached list may miss an occurrence opened within the last ``ttl``.
        campaigns = [
            (c, msgspec.convert(c.doc, CampaignIn)) for c in await self._store.list_campaigns(event.app)
        ]
        rows: list[tuple[Campaign, CampaignIn, str, Delivery]] = []
        for campaign, definition in campaigns:
            for key in sends_at(campaign, definition, event.ts):
                row = await self._store.get_delivery(event.app, key, event.pid)
                if row is not None:
                    rows.append((campaign, definition, key, row))
        touches = [(r.updated, key) for _, _, key, r in rows if r.state in TOUCHES and r.updated <= event.ts]
        candidates = []
        for campaign, definition, key, row in rows:
            goal, t0 = definition.goal, row.updated
            if goal is None or goal.event != event.name or row.state not in EXPOSED:
                continue
            if t0 <= event.ts < t0 + goal.window_s * 1000:
                candidates.append((campaign, definition, key, row))
        if candidates:
            touches += await self._journey_touches(event)
        new = 0
        for campaign, definition, key, row in candidates:
            t0 = row.updated
            if any(t0 < t <= event.ts for t, other in touches if other != key):
                continue  # a later touch takes the credit
            arm = arm_of(definition, campaign.cid, row)
            if await self._measure.record(
                event.app, key, event.pid, "converted", arm=arm, evidence=event.eid, now=event.ts
            ):
                new += 1
        self.credited += new
        return new

    async def catch_up(self, app: str, now: int) -> int:
        """One leased catch-up pass over ``app`` at ``now`` (module docstring): the new credits (0 when
        another node holds the app's pass)."""
        if not await self._store.lease_pass(app, PASS, owner=self._owner, now=now, lease_ms=self._lease_ms):
            return 0
        goals = sorted({d.goal.event for _, d in await self._of(app) if d.goal is not None})
        upto = now - SETTLE_MS
        mark = await self._store.pass_mark(app, PASS)
        since = max(0, mark - MARGIN_MS, now - MAX_GOAL_WINDOW_S * 1000)  # older: past every window
        new, seen, after, reached = 0, 0, None, upto
        while goals and seen < _CATCHUP_BATCH:
            page = await self._store.events_received(app, goals, since=since, after=after, limit=_PAGE)
            page = [e for e in page if e.received < upto]
            for event in page:
                new += await self.handle(event)
            seen += len(page)
            if len(page) < _PAGE:
                break
            after = (page[-1].received, page[-1].eid)
            reached = page[-1].received  # a full batch: the next pass goes on from here
        if reached > mark:
            await self._store.advance_pass_mark(app, PASS, reached)
        return new

    async def loop(self, interval: float) -> None:
        """Run :meth:`catch_up` over every app at once, then every ``interval`` seconds (stopped by
        cancelling: each store call is bounded by the store's timeout)."""
        while True:  # a failed app's next pass retries from the same watermark
            await each_app(
                self._store.list_apps, lambda app: self.catch_up(app, now_ms()), "conversion catch-up", log
            )
            await asyncio.sleep(interval)

    async def _journey_touches(self, event: Event) -> list[tuple[int, str]]:
        """(time, send key) of the journey messages sent to the event's profile up to its ``ts``."""
        since = event.ts - MAX_GOAL_WINDOW_S * 1000
        runs = await self._store.runs_of_profile(event.app, event.pid, since=since, limit=JOURNEY_RUNS)
        out = []
        for run in runs:
            cached = (run.app, run.jid, run.version)
            if cached not in self._journey_sends:
                doc = await self._store.journey_doc(run.app, run.jid, run.version)
                steps: list[str] = []
                if doc is not None:
                    journey: Journey = load_journey(doc)
                    steps = [s.id for s in journey.steps if isinstance(s, Send)]
                self._journey_sends[cached] = steps
            for step in self._journey_sends[cached]:
                key = f"journey:{run.rid}:{step}"
                row = await self._store.get_delivery(event.app, key, event.pid)
                if row is not None and row.state == "sent" and row.updated <= event.ts:
                    out.append((row.updated, key))
        return out
