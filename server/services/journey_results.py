"""A journey's results: per send step, the policy decisions of the runs that reached it and its funnel.

:meth:`JourneyResults.results` walks the journey's runs (``runs_of``, in pages, never loading them
whole) and, for each run, reads the ledger row of each send step of the run's version
(``journey:<run>:<step>``: one keyed read per run and send step) — so a results read costs
``runs x send steps`` keyed reads, documented in docs/MARKETING.md.

Per step (in definition order; a step of an older version only is listed after the latest's):

* **targeted** — runs whose step was handed to the send policy; **decisions** — how many got each
  outcome (``sent``, ``no_consent``, ``capped``, ... = suppressed by reason); **sent**.
* **delivered / read / clicked / replied / opted_out** — profiles who did it at least once for the
  step (touch source ``journey:<jid>/<step>``, the
  :class:`~parley.server.services.measurement.Measurement` counters; a profile that re-enters the
  journey counts once per step).
* **converted** — runs that reached the journey's ``goal`` event, credited to the run's last sent
  step (:meth:`~parley.server.services.journey_steps.StepRunner.credit_goal`), once per profile and step.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from parley.proto.journeys import Journey, Send
from parley.server.activation_port import DeliveryLedger
from parley.server.journey_port import JourneyStore
from parley.server.services.measurement import Measurement, journey_source

__all__ = ["FUNNEL", "JourneyResults"]

_PAGE = 500
#: The engagement kinds of each step's funnel.
FUNNEL = ("delivered", "read", "clicked", "replied", "opted_out", "converted")


class ResultsStore(DeliveryLedger, JourneyStore, Protocol):
    """The store roles the journey results read."""


class _Definitions(Protocol):
    async def head_version(self, app: str, jid: str) -> int: ...

    async def definition(self, app: str, jid: str, version: int) -> Journey: ...


class JourneyResults:
    """Journey results over the node's store (the admin API's entry point)."""

    def __init__(self, store: ResultsStore, measure: Measurement, journeys: _Definitions) -> None:
        self._store = store
        self._measure = measure
        self._journeys = journeys

    async def _send_steps(self, app: str, jid: str, version: int) -> list[str]:
        return [
            s.id for s in (await self._journeys.definition(app, jid, version)).steps if isinstance(s, Send)
        ]

    async def results(self, app: str, jid: str) -> dict[str, Any]:
        """The results document of journey ``jid``; ``journey_not_found`` if there is none."""
        latest = await self._journeys.head_version(app, jid)
        order: list[str] = []
        by_version: dict[int, list[str]] = {}
        for version in (latest, *range(1, latest)):
            by_version[version] = await self._send_steps(app, jid, version)
            order.extend(s for s in by_version[version] if s not in order)
        decisions: dict[str, Counter[str]] = {s: Counter() for s in order}
        after = ""
        while page := await self._store.runs_of(app, jid, after=after, limit=_PAGE):
            after = page[-1].rid
            for run in page:
                if run.version not in by_version:  # a version stored after the head was read
                    by_version[run.version] = await self._send_steps(app, jid, run.version)
                for step in by_version[run.version]:
                    row = await self._store.get_delivery(app, f"journey:{run.rid}:{step}", run.pid)
                    if row is not None:
                        decisions.setdefault(step, Counter())[row.state] += 1
        steps = []
        for step, got in decisions.items():
            source = journey_source(jid, step)
            funnel = {kind: sum((await self._measure.counts(app, source, kind)).values()) for kind in FUNNEL}
            steps.append({"step": step, "targeted": sum(got.values()), "sent": got["sent"],
                          "decisions": dict(sorted(got.items())), **funnel})  # fmt: skip
        goal = (await self._journeys.definition(app, jid, latest)).goal
        return {
            "journey": jid,
            "version": latest,
            "goal": goal,
            "attribution": "last_sent_step",
            "steps": steps,
        }
