"""Journeys on a real node's store and send policy, with an injected clock (no sleeps): the
abandoned-cart journey sends the coupon once after the timeout and never when the purchase with
the same cart id comes first; a run survives its node dying mid-run; validation stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.journeys import parse_journey
from parley.server.errors import ServiceError
from parley.server.events_models import Event
from parley.server.journey_port import Run
from parley.server.services.audience import TagSpec
from parley.server.services.journey_steps import StepRunner
from parley.server.services.journeys import JourneyService
from parley.server.services.journeys_wiring import StoreJourneyProfiles
from parley.server.services.policy_rules import bucket
from tests.harness import RunningNode, running_node
from tests.server.services.test_send_policy import official_messages, profile

MIN = 60_000
TPL = {"versions": {"en": {"text": "Your cart misses you, {{user}}: COUPON10"}}, "default": "en"}
CART: dict[str, Any] = {
    "name": "cart",
    "trigger": {"event": "add_to_cart"},
    "entry": {"once": "key", "key": "cart_id"},
    "steps": [
        {
            "id": "wait",
            "type": "wait_event",
            "event": "purchase",
            "key": "cart_id",
            "timeout_s": 1800,
            "next": "bought",
            "timeout_next": "coupon",
        },
        {"id": "coupon", "type": "send", "template": TPL, "next": "done"},
        {"id": "bought", "type": "update", "add_tags": ["bought_after_cart"]},
        {"id": "done", "type": "exit"},
    ],
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000_000

    def __call__(self) -> int:
        return self.now


async def _no_handoff(run: Run, step: str, reason: str) -> str:
    return ""


def service(node: RunningNode, clock: Clock, lease_ms: int = 30_000) -> JourneyService:
    s, store = node.node.services, node.node.store
    steps = StepRunner(
        s.send_policy, store, StoreJourneyProfiles(store, s.audience), _no_handoff, s.measurement
    )

    async def variables(app: str) -> list[str]:
        return []

    return JourneyService(store, steps, variables=variables, clock=clock, lease_ms=lease_ms)


def event(node: RunningNode, pid: str, name: str, eid: str, ts: int, **props: Any) -> Event:
    return Event(node.app.app, eid, pid, name, ts, props, ts)


async def test_cart_timeout_sends_the_coupon_once_and_a_purchase_prevents_it(tmp_path: Path) -> None:
    async with running_node(tmp_path, journey_interval=0) as node:
        clock, app = Clock(), node.app.app
        j = service(node, clock)
        await j.create(app, "cart", CART)
        ann, bob = await profile(node, "ann"), await profile(node, "bob")
        assert await j.handle(event(node, ann, "add_to_cart", "e1", clock.now, cart_id="c1"))
        assert await j.handle(event(node, bob, "add_to_cart", "e2", clock.now, cart_id="c2"))
        # the same cart again starts nothing (once per key); another cart of ann does
        assert not await j.handle(event(node, ann, "add_to_cart", "e3", clock.now, cart_id="c1"))
        assert await j.poll() == 0  # both runs went to their wait at once
        assert (await j.get(app, "cart"))["waiting"] == {"wait": 2}
        clock.now += 10 * MIN
        # bob buys a different cart: still waiting; then cart c2: the run goes to "bought"
        await j.handle(event(node, bob, "purchase", "e4", clock.now, cart_id="other"))
        await j.handle(event(node, bob, "purchase", "e5", clock.now, cart_id="c2"))
        assert await j.poll() == 1
        assert await j.poll() == 0  # ann's timer is not due yet
        clock.now += 21 * MIN
        assert await j.poll() == 1
        for _ in range(3):  # nothing more happens however often nodes poll
            assert await j.poll() == 0
        assert (await j.get(app, "cart"))["waiting"] == {}
        assert len(await official_messages(node, "ann")) == 1
        assert await official_messages(node, "bob") == []
        bob_view = await node.node.services.audience.view(app, bob)
        assert "bought_after_cart" in {t["name"] for t in bob_view["tags"]}


async def test_a_node_dying_mid_run_loses_and_repeats_no_step(tmp_path: Path) -> None:
    async with running_node(tmp_path, journey_interval=0) as node:
        clock, app = Clock(), node.app.app
        first = service(node, clock, lease_ms=5_000)
        await first.create(app, "cart", CART)
        ann = await profile(node, "ann")
        await first.handle(event(node, ann, "add_to_cart", "e1", clock.now, cart_id="c1"))
        await first.poll()
        clock.now += 31 * MIN
        # the first node claims the due run, sends, and dies before recording anything more
        (run,) = await node.node.store.claim_due_runs(clock.now, "dead-node", 5_000, 10)
        rec = await node.node.store.begin_step(app, run.rid, "coupon", clock.now)
        assert not rec.finished
        second = service(node, clock, lease_ms=5_000)
        assert await second.poll() == 0  # the dead node's lease still holds
        clock.now += 6_000
        assert await second.poll() == 1
        log = await node.node.store.step_log(app, run.rid)
        assert [(r.step, r.outcome) for r in log] == [
            ("wait", "timeout"),
            ("coupon", "sent"),
            ("done", "exit"),
        ]
        assert len(await official_messages(node, "ann")) == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            {
                "steps": [
                    {"id": "a", "type": "wait", "seconds": 5, "next": "b"},
                    {"id": "b", "type": "wait", "seconds": 5, "next": "a"},
                ]
            },
            "journey_cycle",
        ),
        ({"steps": [{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"}]}, "journey_unreachable"),
        ({"steps": [{"id": "a", "type": "wait", "seconds": 0}]}, "journey_invalid"),
        ({"steps": [{"id": "a", "type": "wait", "until_local": "25:00"}]}, "journey_invalid"),
        ({"steps": [{"id": "a", "type": "wait", "seconds": 5, "next": "nope"}]}, "journey_invalid"),
        (
            {
                "steps": [
                    {
                        "id": "a",
                        "type": "send",
                        "template": {"versions": {"en": {"text": "{{shoe}}"}}, "default": "en"},
                    }
                ]
            },
            "template_variable_unknown",
        ),
        ({"entry": {"once": "key"}}, "journey_invalid"),
        ({"steps": []}, "journey_invalid"),
    ],
)
async def test_bad_definitions_are_refused_and_nothing_is_stored(
    tmp_path: Path, change: dict[str, Any], code: str
) -> None:
    with pytest.raises(ProtocolError) as pure:
        parse_journey({**CART, **change}, ["user"])
    assert pure.value.code == ErrorCode(code)
    async with running_node(tmp_path, journey_interval=0) as node:
        j = service(node, Clock())
        with pytest.raises(ServiceError) as err:
            await j.create(node.app.app, "bad", {**CART, **change})
        assert err.value.code == ErrorCode(code)
        assert await j.list_all(node.app.app) == []


async def test_a_running_journey_keeps_its_version(tmp_path: Path) -> None:
    async with running_node(tmp_path, journey_interval=0) as node:
        clock, app = Clock(), node.app.app
        j = service(node, clock)
        await j.create(app, "cart", CART)
        ann = await profile(node, "ann")
        (rid,) = await j.handle(event(node, ann, "add_to_cart", "e1", clock.now, cart_id="c1"))
        await j.poll()
        v2 = {**CART, "steps": [{**CART["steps"][0], "timeout_next": "done"}, *CART["steps"][1:]]}
        v2["steps"] = [s for s in v2["steps"] if s["id"] != "coupon"]
        assert (await j.new_version(app, "cart", v2)).version == 2
        clock.now += 31 * MIN
        await j.poll()
        assert len(await official_messages(node, "ann")) == 1  # version 1 still sends the coupon
        run = await node.node.store.get_run(app, rid)
        assert run is not None and run.version == 1 and run.state == "done"


LOCAL: dict[str, Any] = {
    "name": "local",
    "trigger": {"event": "signup"},
    "steps": [
        {"id": "morning", "type": "wait", "until_local": "10:00", "next": "split"},
        {"id": "split", "type": "branch", "cases": [{"tag": "went_vip", "next": "vip"}, {"arm": 50, "next": "a"}],
         "default": "b"},
        {"id": "vip", "type": "update", "add_tags": ["path_vip"]},
        {"id": "a", "type": "update", "add_tags": ["path_a"]},
        {"id": "b", "type": "update", "add_tags": ["path_b"]},
    ],
}  # fmt: skip


async def test_a_local_time_wait_and_a_branch_by_tag_then_arm(tmp_path: Path) -> None:
    async with running_node(tmp_path, journey_interval=0) as node:
        clock, app = Clock(), node.app.app
        clock.now = 1_898_640_000_000  # 2030-03-01 00:00 UTC = 08:00 in Shanghai
        j = service(node, clock)
        await j.create(app, "local", LOCAL)
        users = [f"u{i}" for i in range(12)]
        pids = {u: await profile(node, u, timezone="Asia/Shanghai") for u in users}
        await node.node.services.audience.update(app, pids["u0"], actor="t", add_tags=[TagSpec("went_vip")])
        for i, u in enumerate(users):
            assert await j.handle(event(node, pids[u], "signup", f"s{i}", clock.now))
        clock.now += 2 * 3_600_000 - 1  # 09:59:59.999 local: not yet
        assert await j.poll() == 0
        clock.now += 1
        assert await j.poll() == len(users)
        paths = {}
        for u, pid in pids.items():
            tags = {t["name"] for t in (await node.node.services.audience.view(app, pid))["tags"]}
            (paths[u],) = tags & {"path_vip", "path_a", "path_b"}
        assert paths.pop("u0") == "path_vip", "the tag case comes first"
        assert set(paths.values()) == {"path_a", "path_b"}, "a 50 % arm splits eleven people both ways"
        for u, path in paths.items():  # the arm is the stable hash of journey, step and profile
            assert (bucket("arm:local:split", pids[u]) < 50) == (path == "path_a")
