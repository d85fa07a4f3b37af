"""Conversions credited as goal events arrive, by last touch: an event that arrives hours late or
before an earlier one is credited exactly as in order; the timeline puts each count in its hour."""

from __future__ import annotations

from typing import Any

from parley.sdk import AdminClient
from parley.server.ids import now_ms
from parley.server.services.campaign_defs import Goal
from tests.harness import RunningNode
from tests.server.campaigns.clocked import Clock, sender
from tests.server.services.test_campaigns import definition
from tests.server.services.test_send_policy import profile

HOUR = 3_600_000


async def results(node: RunningNode, cid: str, **more: Any) -> dict[str, Any]:
    s = node.node.services
    await s.conversions.drain()
    await s.measurement.drain()
    campaign = await s.campaigns.get(node.app.app, cid)
    return await s.results.results(campaign, s.campaigns.definition(campaign), 0.0, **more)


def converted(doc: dict[str, Any]) -> int:
    return sum(arm["converted"] for arm in doc["arms"].values())


async def test_late_and_out_of_order_goal_events_are_credited_by_last_touch(node: RunningNode) -> None:
    app, s, store = node.app.app, node.node.services, node.node.store
    found = await store.get_audience_schema(app)
    await store.put_audience_schema(
        app,
        {
            **(found[1] if found else {}),
            "events": {"purchase": {"properties": {}}, "browse": {"properties": {}}},
        },
        1,
    )
    users = ["u0", "u1", "u2", "u3"]
    pids = {u: await profile(node, u) for u in users}
    now = now_ms() // HOUR * HOUR + HOUR // 2  # mid-hour: the buckets below are exact
    clock = Clock(now - 5 * HOUR)
    goal = Goal("purchase", window_s=7200)
    a = await sender(node, clock).create(app, definition(list(pids.values()), goal=goal))
    assert await sender(node, clock).run(app, a.cid) == "done"  # A touches everyone at now-5h
    clock.now = now - 3 * HOUR
    b = await sender(node, clock).create(app, definition([pids["u1"]], goal=goal))
    assert await sender(node, clock).run(app, b.cid) == "done"  # B touches u1 at now-3h
    events = [
        {"eid": "e0", "user": "u0", "event": "purchase", "ts": now - 4 * HOUR},  # 4 h late: A's
        {"eid": "e1", "user": "u1", "event": "purchase", "ts": now - 2 * HOUR - HOUR // 2},  # after B: B's
        {
            "eid": "e2",
            "user": "u1",
            "event": "purchase",
            "ts": now - 4 * HOUR - HOUR // 4,
        },  # earlier, arrives later: A's
        {"eid": "e3", "user": "u2", "event": "purchase", "ts": now - 6 * HOUR},  # before any touch
        {"eid": "e4", "user": "u3", "event": "purchase", "ts": now - 2 * HOUR},  # past A's 2 h window
        {"eid": "e5", "user": "u0", "event": "browse", "ts": now - 4 * HOUR},  # not a goal
    ]
    async with AdminClient(node.http, node.api_key) as admin:
        for event in events:  # one at a time, in this (not time) order
            await admin.ingest_events([event])
        await admin.ingest_events(events)  # a retried batch: duplicates, nothing credited again
        doc_a = await results(node, a.cid)
        assert converted(doc_a) == 2, doc_a["arms"]
        assert converted(await results(node, b.cid)) == 1
        hours = {bucket["start"]: bucket for bucket in doc_a["timeline"]}
        first = (now - 5 * HOUR) // HOUR * HOUR
        assert [hours[first + h * HOUR]["sent"] for h in range(2)] == [4, 0]
        assert [hours[first + h * HOUR]["converted"] for h in range(2)] == [0, 2], (
            "e2 (-4h15) and e0 (-4h) both in the hour after the sends (-5h)"
        )
        assert sorted(hours) == [first, first + HOUR]
        over_http = await admin.campaign_results(a.cid, bucket="day")
        assert sum(b["converted"] for b in over_http["timeline"]) == 2
        assert set(over_http["timeline"][0]) == {
            "start",
            "sent",
            "delivered",
            "read",
            "clicked",
            "replied",
            "converted",
        }
    assert s.conversions.credited == 3


async def test_a_goal_event_just_after_a_campaign_is_created_is_credited_at_once(node: RunningNode) -> None:
    """The attributor caches the app's campaigns for a second: a read made before the campaign
    existed (here by a ``browse`` event) must not hide it from the next goal event."""
    app, s, store = node.app.app, node.node.services, node.node.store
    found = await store.get_audience_schema(app)
    schema = {
        **(found[1] if found else {}),
        "events": {"purchase": {"properties": {}}, "browse": {"properties": {}}},
    }
    await store.put_audience_schema(app, schema, 1)
    pid = await profile(node, "u0")
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.ingest_events([{"eid": "b0", "user": "u0", "event": "browse", "ts": now_ms()}])
        await s.conversions.drain()  # the attributor has read the app's campaigns: none yet
        campaign = await s.campaigns.create(app, definition([pid], goal=Goal("purchase", window_s=7200)))
        assert await s.campaigns.run(app, campaign.cid) == "done"
        await admin.ingest_events([{"eid": "p0", "user": "u0", "event": "purchase", "ts": now_ms() + 1}])
        assert converted(await results(node, campaign.cid)) == 1
