"""Conversion credit survives a node dying between storing a goal event and crediting it, on SQLite
and the MongoDB wire server: the stored goal event's credit is lost from the node's memory (its queue
dropped), then the leased catch-up pass over the events received since the app's durable watermark
credits it — exactly once, however often the pass runs and on however many nodes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from parley.sdk import AdminClient
from parley.server.ids import now_ms
from parley.server.services.campaign_defs import Goal
from parley.server.services.conversions import PASS, ConversionAttributor
from tests.harness import RunningNode, running_node
from tests.server.campaigns.clocked import Clock, sender
from tests.server.services.test_campaigns import definition
from tests.server.services.test_send_policy import profile

HOUR = 3_600_000


async def converted(node: RunningNode, cid: str) -> int:
    s = node.node.services
    await s.conversions.drain()
    campaign = await s.campaigns.get(node.app.app, cid)
    doc: dict[str, Any] = await s.results.results(campaign, s.campaigns.definition(campaign), 0.0)
    return sum(arm["converted"] for arm in doc["arms"].values())


async def test_a_goal_event_stored_but_never_credited_is_credited_once_by_the_catch_up(
    node: RunningNode,
) -> None:
    app, s, store = node.app.app, node.node.services, node.node.store
    found = await store.get_audience_schema(app)
    events = {"purchase": {"properties": {}}, "browse": {"properties": {}}}
    await store.put_audience_schema(app, {**(found[1] if found else {}), "events": events}, 1)
    pids = {u: await profile(node, u) for u in ("u0", "u1")}
    now = now_ms()
    clock = Clock(now - HOUR)
    camp = await sender(node, clock).create(app, definition(list(pids.values()), goal=Goal("purchase", 7200)))
    assert await sender(node, clock).run(app, camp.cid) == "done"
    # the node "dies" after storing the goal events and before crediting them: its queue is lost
    s.events.on_stored.remove(s.conversions.on_events)
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.ingest_events(
            [
                {"eid": "e0", "user": "u0", "event": "purchase", "ts": now - HOUR // 2},
                {"eid": "e1", "user": "u1", "event": "browse", "ts": now - HOUR // 2},
            ]
        )
    await s.events.applier.flush()
    assert await converted(node, camp.cid) == 0, "nothing credited the stored event"
    # a restarted node (and another one at the same time) run the catch-up pass
    later = now_ms() + 60_000
    first, second = ConversionAttributor(store, s.measurement), ConversionAttributor(store, s.measurement)
    assert await first.catch_up(app, later) == 1
    assert await second.catch_up(app, later) == 0, "the lease: one node runs the app's pass at a time"
    assert await converted(node, camp.cid) == 1
    # the watermark is durable: a pass from the start again credits nothing twice
    third = ConversionAttributor(store, s.measurement, owner="third")
    assert await third.catch_up(app, later + 3_600_000) == 0
    assert await converted(node, camp.cid) == 1
    assert first.credited + second.credited + third.credited == 1
    assert await store.pass_mark(app, "conversions") > now - HOUR


async def test_the_live_credit_and_the_catch_up_credit_once_together(node: RunningNode) -> None:
    app, s, store = node.app.app, node.node.services, node.node.store
    found = await store.get_audience_schema(app)
    await store.put_audience_schema(
        app, {**(found[1] if found else {}), "events": {"purchase": {"properties": {}}}}, 1
    )
    pid = await profile(node, "u0")
    now = now_ms()
    clock = Clock(now - HOUR)
    camp = await sender(node, clock).create(app, definition([pid], goal=Goal("purchase", 7200)))
    assert await sender(node, clock).run(app, camp.cid) == "done"
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.ingest_events([{"eid": "e0", "user": "u0", "event": "purchase", "ts": now - 60_000}])
    assert await converted(node, camp.cid) == 1
    other = ConversionAttributor(store, s.measurement, owner="other")
    assert await other.catch_up(app, now_ms() + 60_000) == 0
    assert await converted(node, camp.cid) == 1


async def test_a_starting_node_runs_the_catch_up_pass_and_stops_it_on_stop(tmp_path: Path) -> None:
    """The node wiring: a node started after another stored events runs the app's pass at start
    (its watermark moves, under its lease), and a node with the pass disabled does not."""
    async with running_node(tmp_path, conversion_catchup_interval=0, campaign_interval=0) as first:
        app = (first.app, first.api_key)
        assert await first.node.store.pass_mark(first.app.app, PASS) == 0
    async with running_node(
        tmp_path, app=app, conversion_catchup_interval=3600, campaign_interval=0
    ) as second:
        store = second.node.store
        for _ in range(400):  # the pass runs as the node starts; bounded wait for it (not a timing check)
            if await store.pass_mark(second.app.app, PASS) > 0:
                break
            await asyncio.sleep(0.025)
        assert await store.pass_mark(second.app.app, PASS) > 0
        assert not await store.lease_pass(second.app.app, PASS, owner="someone", now=now_ms(), lease_ms=1)
