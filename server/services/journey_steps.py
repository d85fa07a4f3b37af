"""What each journey step does: waits compute their due time from the step log, the rest act.

A step's result is either "go to ``next``" (with an ``outcome`` for the step log) or "wait until
``wait_until``" (the run keeps the step and its timer). Waits are computed from the time the step
was *begun* (its step-log row), so re-running a step after a crash waits no longer and no less.
Side effects are idempotent: a send goes through the send policy under ``journey:<run>:<step>``
(deduplicated, capped and recorded like a campaign's), tags and attributes are set.

Measurement: a send's message carries the marker ``journey:<jid>`` with the step as its variant, so its
reads, replies and clicks count for the touch source ``journey:<jid>/<step>``
(:func:`~parley.server.services.measurement.touch_source`). When a run ends at the journey's goal
event, :meth:`StepRunner.credit_goal` credits the conversion to the run's **last sent step** (last touch
within the run; once per profile and step, the ``converted`` row of the measurement ledger).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from parley.proto.journeys import Branch, Exit, Handover, Journey, Send, Step, Update, Wait, WaitEvent
from parley.server.activation_port import DEFERRED, PENDING, DeliveryLedger
from parley.server.journey_port import Run
from parley.server.services.measurement import Measurement, journey_source
from parley.server.services.policy_rules import bucket, next_local, zone
from parley.server.services.send_policy import SendPolicy, SendRequest

__all__ = ["JourneyProfiles", "StepResult", "StepRunner"]

#: How long a send whose ledger row another sender holds waits before looking again (ms).
RECHECK_MS = 5_000


@dataclass(frozen=True, slots=True)
class StepResult:
    """Go to ``next`` ("" ends the run) recording ``outcome``; or wait until ``wait_until`` (ms)."""

    next: str = ""
    outcome: str = ""
    wait_until: int = 0
    wait_event: str = ""
    wait_key: str = ""


class JourneyProfiles(Protocol):
    """What steps read and change of a profile (the audience and segment services, adapted)."""

    async def facts(self, app: str, pid: str) -> tuple[Mapping[str, Any], set[str], str]:
        """The profile's attributes, tag names and timezone ("" when unknown)."""

    async def in_segment(self, app: str, segment: str, pid: str) -> bool:
        """Whether the profile is a member of the segment now."""

    async def had_event(self, app: str, pid: str, name: str, since: int) -> bool:
        """Whether the profile had event ``name`` at or after ``since`` (ms)."""

    async def update(
        self,
        app: str,
        pid: str,
        attributes: Mapping[str, Any],
        add_tags: list[str],
        remove_tags: list[str],
        evidence: str,
    ) -> None:
        """Set attributes and tags (idempotent)."""


#: Hands the run's profile to an agent for step ``(run, step id, reason)``: the conversation id ("" if it
#: cannot); idempotent per run and step (a retried step must not open a second case).
Handoff = Callable[[Run, str, str], Awaitable[str]]


class StepRunner:
    """Executes one step of a run (see the module docstring)."""

    def __init__(
        self,
        policy: SendPolicy,
        ledger: DeliveryLedger,
        profiles: JourneyProfiles,
        handoff: Handoff,
        measure: Measurement | None = None,
    ) -> None:
        self._policy = policy
        self._ledger = ledger
        self._profiles = profiles
        self._handoff = handoff
        self._measure = measure

    async def credit_goal(self, journey: Journey, run: Run, now: int) -> str:
        """Credit ``run`` reaching its goal to its last sent step; that step's id ("" if none was sent,
        or no measurement is wired). Idempotent: a retried run credits the same step once."""
        if self._measure is None:
            return ""
        latest: tuple[int, str] | None = None
        for step in journey.steps:
            if isinstance(step, Send):
                row = await self._ledger.get_delivery(run.app, f"journey:{run.rid}:{step.id}", run.pid)
                if row is not None and row.state == "sent" and (latest is None or row.updated >= latest[0]):
                    latest = (row.updated, step.id)
        if latest is None:
            return ""
        source = journey_source(run.jid, latest[1])
        await self._measure.record(
            run.app, source, run.pid, "converted", arm=latest[1], evidence=run.rid, now=now
        )
        return latest[1]

    async def execute(self, journey: Journey, run: Run, step: Step, begun: int, now: int) -> StepResult:
        """Run ``step`` of ``run`` begun at ``begun`` (ms) at time ``now``."""
        match step:
            case Wait():
                if step.seconds:
                    due = begun + step.seconds * 1000
                else:
                    hh, mm = step.until_local.split(":")
                    tz = zone((await self._profiles.facts(run.app, run.pid))[2], ZoneInfo("UTC"))
                    due = next_local(begun, tz or ZoneInfo("UTC"), int(hh) * 60 + int(mm))
                return StepResult(step.next, "waited") if now >= due else StepResult(wait_until=due)
            case WaitEvent():
                if run.signal == step.event:
                    return StepResult(step.next, "event")
                due = begun + step.timeout_s * 1000
                if now >= due:
                    return StepResult(step.timeout_next, "timeout")
                wait_key = ""
                if step.key:
                    # the run's key when the journey is keyed by the same property, else any value
                    wait_key = run.key if run.key.startswith(f"{step.key}=") else ""
                return StepResult(wait_until=due, wait_event=step.event, wait_key=wait_key)
            case Branch():
                return StepResult(await self._branch(run, step), "branched")
            case Send():
                return await self._send(journey, run, step, now)
            case Update():
                attrs = dict(step.set)
                await self._profiles.update(run.app, run.pid, attrs, step.add_tags, step.remove_tags, run.rid)
                return StepResult(step.next, "updated")
            case Handover():
                conv = await self._handoff(run, step.id, step.reason)
                return StepResult(step.next, f"handover:{conv}" if conv else "handover:none")
            case Exit():
                return StepResult("", "exit")

    async def _branch(self, run: Run, step: Branch) -> str:
        attrs: Mapping[str, Any] | None = None
        tags: set[str] = set()
        for case in step.cases:
            if case.attribute or case.tag:
                if attrs is None:
                    attrs, tags, _ = await self._profiles.facts(run.app, run.pid)
                if case.attribute and attrs.get(case.attribute) == case.equals:
                    return case.next
                if case.tag and case.tag in tags:
                    return case.next
            elif case.segment:
                if await self._profiles.in_segment(run.app, case.segment, run.pid):
                    return case.next
            elif case.event and await self._profiles.had_event(run.app, run.pid, case.event, run.started):
                return case.next
        # arms: one stable draw per run and branch over the cumulative percentages
        draw, upto = bucket(f"arm:{run.jid}:{step.id}", run.pid), 0.0
        for case in step.cases:
            if case.arm > 0:
                upto += case.arm
                if draw < upto:
                    return case.next
        return step.default

    async def _send(self, journey: Journey, run: Run, step: Send, now: int) -> StepResult:
        key = f"journey:{run.rid}:{step.id}"
        req = SendRequest(
            run.app, key, run.pid, step.template, f"journey:{run.jid}", journey.topic, variant=step.id,
            source=journey_source(run.jid, step.id),
        )  # fmt: skip
        decision = await self._policy.send(req, now=now)
        outcome, retry_at = decision.outcome.value, decision.retry_at
        if outcome == "duplicate":  # an earlier attempt (this run's, before a crash) decided or holds it
            row = await self._ledger.get_delivery(run.app, key, run.pid)
            if row is None or row.state == PENDING:
                return StepResult(wait_until=max(now + RECHECK_MS, row.lease_until if row else 0))
            outcome, retry_at = row.state, row.retry_at
        if outcome in DEFERRED:
            return StepResult(wait_until=max(retry_at, now + 1))
        return StepResult(step.next, outcome)
