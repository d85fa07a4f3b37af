"""The journey ``handover`` step on a real node's store: a node that dies after handing over, before it
records the step, leaves the run to another node, which re-runs the step — and the customer's
conversation with the brand still has one case, waiting for an agent, announced once. Both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.server.events_models import Event
from parley.server.services.journey_steps import StepRunner
from parley.server.services.journeys import JourneyService
from parley.server.services.journeys_wiring import StoreJourneyProfiles, handoff_for
from tests.harness import RunningNode, running_node
from tests.server.journeys.test_journeys import Clock
from tests.server.services.test_brand_support import BACKENDS, store_args
from tests.server.services.test_send_policy import profile

VIP: dict[str, Any] = {
    "name": "vip",
    "trigger": {"event": "big_order"},
    "steps": [
        {"id": "wait", "type": "wait", "seconds": 60, "next": "agent"},
        {"id": "agent", "type": "handover", "reason": "VIP order: call them"},
    ],
}


def service(node: RunningNode, clock: Clock) -> JourneyService:
    s, store = node.node.services, node.node.store
    steps = StepRunner(
        s.send_policy, store, StoreJourneyProfiles(store, s.audience), handoff_for(s.brand_support)
    )

    async def variables(app: str) -> list[str]:
        return []

    return JourneyService(store, steps, variables=variables, clock=clock, lease_ms=5_000)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_hand_over_re_run_after_a_crash_opens_one_case(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    async with running_node(tmp_path, journey_interval=0, **store_args(backend, request)) as node:
        clock, app, s, store = Clock(), node.app.app, node.node.services, node.node.store
        first = service(node, clock)
        await first.create(app, "vip", VIP)
        ann = await profile(node, "ann")
        assert await first.handle(Event(app, "e1", ann, "big_order", clock.now, {}, clock.now))
        await first.poll()
        clock.now += 2 * 60_000
        # A node claims the due run, begins the step, hands over — and dies before recording it.
        (run,) = await store.claim_due_runs(clock.now, "dead-node", 5_000, 10)
        await store.begin_step(app, run.rid, "agent", clock.now)
        conv = await handoff_for(s.brand_support)(run, "agent", "VIP order: call them")
        assert conv
        second = service(node, clock)
        clock.now += 6_000  # the dead node's lease expires
        assert await second.poll() == 1
        log = await store.step_log(app, run.rid)
        assert [(r.step, r.outcome) for r in log] == [("wait", "waited"), ("agent", f"handover:{conv}")]
        ticket = await s.support.ticket(app, conv)
        assert ticket.state == "waiting_for_agent" and ticket.reason == "VIP order: call them"
        assert ticket.origin == {"kind": "journey", "journey": "vip", "run": run.rid, "step": "agent"}
        history = await s.history.messages(app, conv, 1, 100)
        announced = [m for m in history if m.kind == "system" and m.body.get("event") == "support"]
        assert [m.body["state"] for m in announced] == ["waiting_for_agent"], "one case, announced once"
