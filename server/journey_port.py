"""The journeys role port: definitions (versioned), entries, runs with their timers, the step log.

Guarantees every adapter keeps (``tests/server/store/test_journey_contract.py``):

* A definition's versions are immutable; ``add_journey_version`` is a compare-and-set on the
  head's version, and a run keeps the version it started with.
* ``enter_journey`` is atomic per ``(app, jid, entry key)``: of concurrent entries one wins; a
  later one wins only once ``every_ms`` (> 0) has passed since the last.
* ``start_run`` is idempotent by run id.
* ``claim_due_runs`` hands each due run (``0 < due <= now`` and no live lease) to one claimer until
  ``now + lease_ms``; it reads the runs by an index on ``due`` (never a scan of all runs). A
  claimer that dies leaves the lease to expire, and the run is claimed again.
* ``advance_run`` is a compare-and-set on ``(owner, seq)``: a claimer whose lease was taken over
  cannot move the run.
* ``signal_runs`` records an event on the active runs of a profile that wait for it (or whose
  goal it is) and makes them due now; a signal that arrives while a run is claimed survives the
  claimer's ``advance_run`` (the ``sig`` counter tells).
* ``begin_step`` inserts the step-log row of ``(run, step)`` once; later calls return the
  existing row, whose ``next`` (once ``finish_step`` wrote it) replays the step's outcome
  without repeating its side effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["JourneyHead", "JourneyStore", "Run", "StepRecord"]


@dataclass(frozen=True, slots=True)
class JourneyHead:
    """A journey's head: its state (``active``, ``paused``, ``archived``), latest version and the
    trigger event of that version."""

    app: str
    jid: str
    state: str
    version: int
    trigger: str
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class Run:
    """One profile's walk through one version of a journey. ``step`` is the current step,
    ``state`` ``active`` or ``done``; ``due`` the timer (0: none); ``wait_event``/``wait_key``
    what it waits for; ``signal`` the last event name that woke it; ``goal`` the journey's
    goal event; ``key`` the run's correlation value."""

    app: str
    rid: str
    jid: str
    version: int
    pid: str
    key: str
    step: str
    state: str
    due: int
    owner: str
    lease_until: int
    wait_event: str
    wait_key: str
    signal: str
    goal: str
    seq: int
    sig: int
    started: int
    updated: int


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The step-log row of ``(run, step)``: ``next`` and ``outcome`` are empty until finished."""

    rid: str
    step: str
    started: int
    finished: int
    next: str
    outcome: str


class JourneyStore(Protocol):
    """Journey definitions, entries, runs and the step log (see the module's guarantees)."""

    async def create_journey(self, app: str, jid: str, doc: dict[str, Any], trigger: str, now: int) -> bool:
        """Store version 1 and the head (``active``); False if ``jid`` exists."""

    async def add_journey_version(
        self, app: str, jid: str, expect_version: int, doc: dict[str, Any], trigger: str, now: int
    ) -> int | None:
        """Store version ``expect_version + 1`` if the head is still at ``expect_version``."""

    async def get_journey(self, app: str, jid: str) -> JourneyHead | None:
        """The head; None if absent."""

    async def journey_doc(self, app: str, jid: str, version: int) -> dict[str, Any] | None:
        """One stored version's definition."""

    async def list_journeys(self, app: str) -> list[JourneyHead]:
        """The app's journeys by id."""

    async def set_journey_state(
        self, app: str, jid: str, state: str, expect: tuple[str, ...], now: int
    ) -> bool:
        """Set the state if it is one of ``expect``."""

    async def triggered_journeys(self, app: str, event: str) -> list[JourneyHead]:
        """The active journeys whose latest version starts on ``event`` (indexed)."""

    async def enter_journey(self, app: str, jid: str, entry: str, now: int, every_ms: int) -> bool:
        """Record an entry under ``entry``; False if one exists (and ``every_ms`` has not passed)."""

    async def start_run(self, run: Run) -> bool:
        """Insert the run; False if its id exists."""

    async def get_run(self, app: str, rid: str) -> Run | None:
        """The run; None if absent."""

    async def claim_due_runs(self, now: int, owner: str, lease_ms: int, limit: int) -> list[Run]:
        """Lease up to ``limit`` due runs (earliest first) to ``owner``."""

    async def advance_run(
        self, app: str, rid: str, *, owner: str, seq: int, sig: int, step: str, state: str, due: int,
        wait_event: str, wait_key: str, now: int,
    ) -> bool:  # fmt: skip
        """Move the run and release the lease (CAS on owner and seq); a signal newer than ``sig``
        keeps the run due now."""

    async def signal_runs(self, app: str, pid: str, event: str, keys: Sequence[str], now: int) -> int:
        """Wake the profile's active runs waiting for ``event`` (``wait_key`` empty or in ``keys``)
        or whose goal it is (run key empty or in ``keys``); how many. A key is ``"<prop>=<value>"``."""

    async def begin_step(self, app: str, rid: str, step: str, now: int) -> StepRecord:
        """The step-log row of ``(rid, step)``, inserted now if absent."""

    async def finish_step(
        self, app: str, rid: str, step: str, next_step: str, outcome: str, now: int
    ) -> None:
        """Record the step's outcome and the step it leads to (first write wins)."""

    async def step_log(self, app: str, rid: str) -> list[StepRecord]:
        """The run's step log, oldest first."""

    async def waiting_at(self, app: str, jid: str) -> dict[str, int]:
        """Active runs of the journey per current step."""

    async def runs_of(self, app: str, jid: str, *, after: str, limit: int) -> list[Run]:
        """A page of the journey's runs by id."""

    async def runs_of_profile(self, app: str, pid: str, *, since: int, limit: int) -> list[Run]:
        """Up to ``limit`` runs (active or done, of any journey) of profile ``pid`` started at or after
        ``since``, newest first (indexed by profile: attribution reads a profile's journey touches)."""
