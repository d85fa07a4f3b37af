"""Triggered journeys: definitions (versioned), runs, timers fired by a per-node poller.

* **Starting.** :meth:`JourneyService.on_events` is fed the events the event service stored
  (track, ingest, ``segment_enter``/``segment_leave``, ``lifecycle_changed``). An event first wakes
  the profile's runs waiting for it (or whose goal it is), then starts the journeys it triggers.
  Entry rules: ``profile`` and ``key`` make the run id out of the entry (``start_run`` is unique by
  id: the rule is atomic); ``every`` passes ``enter_journey`` first.
* **Timers.** A waiting run has a ``due`` time; every node polls the store for due runs (an
  index on ``due``), leasing each to itself, so several nodes share them and a dead node's runs
  are taken over once its lease expires.
* **Exactly once.** Steps never repeat within a run (cycles are refused), so the step log is
  unique per (run, step): a step's row is begun before its side effect and finished with its
  outcome and next step; a run re-executed after a crash replays finished steps from the log
  and re-runs an unfinished one, whose side effect is idempotent (a send's dedupe key is
  ``journey:<run>:<step>`` in the send policy; tags and attributes are set, not added).
* **Versions.** A run loads the version it started with.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.journeys import Journey, load_journey, parse_journey, to_json
from parley.server.errors import ServiceError
from parley.server.events_models import Event
from parley.server.ids import now_ms
from parley.server.journey_port import JourneyHead, JourneyStore, Run
from parley.server.services.journey_steps import StepRunner

__all__ = ["JourneyService"]

log = logging.getLogger("parley.journeys")

Clock = Callable[[], int]


class _Variables(Protocol):
    def __call__(self, app: str) -> Awaitable[list[str]]: ...


def _bad(exc: ProtocolError) -> ServiceError:
    return ServiceError(exc.code, exc.message)


class JourneyService:
    """Journey definitions and their runs (see the module docstring)."""

    def __init__(
        self,
        store: JourneyStore,
        steps: StepRunner,
        *,
        variables: _Variables,
        lease_ms: int = 30_000,
        batch: int = 100,
        clock: Clock = now_ms,
    ) -> None:
        self._store = store
        self._steps = steps
        self._variables = variables
        self._lease_ms = lease_ms
        self._batch = batch
        self._clock = clock
        self._owner = f"jr-{secrets.token_hex(6)}"
        self._defs: dict[tuple[str, str, int], Journey] = {}
        self._queue: list[Event] = []
        self._task: asyncio.Task[None] | None = None
        #: Steps executed by this node (observability, tests, the chaos test's counts).
        self.executed = 0

    # definitions -------------------------------------------------------------------------------
    async def _parse(self, app: str, raw: Mapping[str, Any]) -> Journey:
        try:
            return parse_journey(raw, ["user", *await self._variables(app)])
        except ProtocolError as exc:
            raise _bad(exc) from None

    async def create(self, app: str, jid: str, raw: Mapping[str, Any]) -> JourneyHead:
        """Validate and store version 1; ``journey_invalid`` (and the others) store nothing."""
        journey = await self._parse(app, raw)
        if not await self._store.create_journey(
            app, jid, to_json(journey), journey.trigger.event, self._clock()
        ):
            raise ServiceError(ErrorCode.JOURNEY_STATE, f"journey {jid!r} exists")
        return await self.head(app, jid)

    async def new_version(self, app: str, jid: str, raw: Mapping[str, Any]) -> JourneyHead:
        """Store the next version; running runs keep theirs. ``journey_state`` if archived or raced."""
        journey = await self._parse(app, raw)
        head = await self.head(app, jid)
        got = await self._store.add_journey_version(
            app, jid, head.version, to_json(journey), journey.trigger.event, self._clock()
        )
        if got is None:
            raise ServiceError(ErrorCode.JOURNEY_STATE, "the journey is archived or changed meanwhile")
        return await self.head(app, jid)

    async def head(self, app: str, jid: str) -> JourneyHead:
        """The head; ``journey_not_found``."""
        head = await self._store.get_journey(app, jid)
        if head is None:
            raise ServiceError(ErrorCode.JOURNEY_NOT_FOUND, f"no journey {jid!r}")
        return head

    async def head_version(self, app: str, jid: str) -> int:
        """The latest version of ``jid``; ``journey_not_found``."""
        return (await self.head(app, jid)).version

    async def get(self, app: str, jid: str) -> dict[str, Any]:
        """The head, its latest definition and how many runs wait at each step."""
        head = await self.head(app, jid)
        doc = await self._store.journey_doc(app, jid, head.version)
        waiting = await self._store.waiting_at(app, jid)
        return {"id": jid, "state": head.state, "version": head.version, "definition": doc,
                "waiting": waiting, "created": head.created, "updated": head.updated}  # fmt: skip

    async def list_all(self, app: str) -> list[JourneyHead]:
        """The app's journeys."""
        return await self._store.list_journeys(app)

    async def control(self, app: str, jid: str, action: str) -> JourneyHead:
        """``pause`` (no new runs; running ones go on), ``resume``, ``archive``; ``journey_state``."""
        moves = {"pause": ("paused", ("active",)), "resume": ("active", ("paused",)),
                 "archive": ("archived", ("active", "paused"))}  # fmt: skip
        if action not in moves:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"unknown action {action!r}")
        await self.head(app, jid)
        state, expect = moves[action]
        if not await self._store.set_journey_state(app, jid, state, expect, self._clock()):
            raise ServiceError(ErrorCode.JOURNEY_STATE, f"cannot {action} the journey in its state")
        return await self.head(app, jid)

    async def definition(self, app: str, jid: str, version: int) -> Journey:
        """Version ``version`` of a journey, parsed once per node."""
        key = (app, jid, version)
        got = self._defs.get(key)
        if got is None:
            doc = await self._store.journey_doc(app, jid, version)
            if doc is None:
                raise ServiceError(ErrorCode.JOURNEY_NOT_FOUND, f"{jid} v{version}")
            got = self._defs[key] = load_journey(doc)
        return got

    # events ------------------------------------------------------------------------------------
    def on_events(self, events: Sequence[Event]) -> None:
        """Listener for stored events (call on the loop; must not block): queued, handled in order."""
        self._queue.extend(events)
        if events and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="parley-journeys-events")

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            for event in batch:
                try:
                    await self.handle(event)
                except Exception as exc:  # one bad event must not stop the others
                    log.error("journeys: event %s/%s not handled: %r", event.app, event.eid, exc)

    async def flush(self) -> None:
        """Wait until every queued event was handled (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def handle(self, event: Event) -> list[str]:
        """Wake runs waiting for ``event``, then start the journeys it triggers; the new run ids."""
        now = self._clock()
        keys = [f"{k}={v}" for k, v in sorted(event.props.items())]
        await self._store.signal_runs(event.app, event.pid, event.name, keys, now)
        started: list[str] = []
        for head in await self._store.triggered_journeys(event.app, event.name):
            journey = await self.definition(event.app, head.jid, head.version)
            if any(event.props.get(k) != v for k, v in journey.trigger.where.items()):
                continue
            rid = await self._enter(head, journey, event, now)
            if rid:
                started.append(rid)
        return started

    async def _enter(self, head: JourneyHead, journey: Journey, event: Event, now: int) -> str:
        entry = journey.entry
        key = ""
        if entry.key:
            if entry.key not in event.props:
                return ""
            key = f"{entry.key}={event.props[entry.key]}"
        if entry.once == "profile":
            seed = f"p/{event.pid}"
        elif entry.once == "key":
            seed = f"k/{event.pid}/{key}"
        else:
            if not await self._store.enter_journey(
                event.app, head.jid, event.pid, now, entry.every_days * 86_400_000
            ):
                return ""
            seed = f"e/{event.eid}"
        digest = hashlib.sha256(f"{head.jid}\n{seed}".encode()).hexdigest()
        rid = f"r{digest[:24]}"
        # born leased to this node and walked at once, so that the profile's next event (queued
        # behind this one) finds it at its first wait; if this node dies, the lease expires and
        # another node's poller takes the run (due now)
        run = Run(
            event.app, rid, head.jid, head.version, event.pid, key, journey.steps[0].id, "active",
            now, self._owner, now + self._lease_ms, "", "", "", journey.goal, 0, 0, now, now,
        )  # fmt: skip
        if not await self._store.start_run(run):
            return ""
        await self._advance(run, now)
        return rid

    # timers ------------------------------------------------------------------------------------
    async def poll(self) -> int:
        """Claim this node's share of the due runs and move each as far as it can go; how many."""
        now = self._clock()
        runs = await self._store.claim_due_runs(now, self._owner, self._lease_ms, self._batch)
        for run in runs:
            try:
                await self._advance(run, now)
            except Exception as exc:  # the lease expires and the run is taken over
                log.error("journeys: run %s/%s failed at %s: %r", run.app, run.rid, run.step, exc)
        return len(runs)

    async def _advance(self, run: Run, now: int) -> None:
        journey = await self.definition(run.app, run.jid, run.version)
        step_id, state, due, wait_event, wait_key = run.step, "active", 0, "", ""
        if journey.goal and run.signal == journey.goal:
            await self._steps.credit_goal(journey, run, now)  # before the run is done: a crash retries it
            await self._store.finish_step(run.app, run.rid, step_id, "", "goal", now)
            state = "done"
        while state == "active":
            rec = await self._store.begin_step(run.app, run.rid, step_id, now)
            if rec.finished:
                nxt = rec.next
            else:
                result = await self._steps.execute(journey, run, journey.step(step_id), rec.started, now)
                if result.wait_until:
                    due, wait_event, wait_key = result.wait_until, result.wait_event, result.wait_key
                    break
                self.executed += 1
                nxt = result.next
                await self._store.finish_step(run.app, run.rid, step_id, nxt, result.outcome, now)
            if not nxt:
                state = "done"
            else:
                step_id = nxt
        await self._store.advance_run(
            run.app, run.rid, owner=self._owner, seq=run.seq, sig=run.sig, step=step_id, state=state,
            due=due, wait_event=wait_event, wait_key=wait_key, now=now,
        )  # fmt: skip

    async def loop(self, interval: float) -> None:
        """Poll every ``interval`` seconds (at once again while a poll found a full batch)."""
        while True:
            try:
                found = await self.poll()
            except Exception as exc:
                log.warning("journeys: poll failed: %r", exc)
                found = 0
            if found < self._batch:
                await asyncio.sleep(interval)
