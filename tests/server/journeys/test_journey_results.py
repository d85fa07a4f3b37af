"""Journey sends are measured per journey and step, on SQLite and the MongoDB wire server: a read and a
reply of a journey message count under that journey's step (not under a campaign called
``journey``), tag the profile ``engaged:journey:<jid>``, a goal event credits the run's last sent step
(``converted:journey:<jid>``), and ``GET /v1/journeys/{jid}/results`` gives each step's funnel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.sdk import AdminClient
from parley.server.ids import now_ms
from parley.server.services.campaign_defs import Goal
from parley.server.services.measurement import tag_id, touch_source
from tests.harness import RunningNode, running_node
from tests.server.campaigns.clocked import Clock as CampaignClock
from tests.server.campaigns.clocked import sender
from tests.server.journeys.test_journeys import Clock, event, service
from tests.server.services.test_campaigns import definition
from tests.server.services.test_send_policy import profile

HOUR = 3_600_000

TPL = {"versions": {"en": {"text": "Welcome {{user}}"}}, "default": "en"}
WELCOME: dict[str, Any] = {
    "name": "welcome",
    "trigger": {"event": "signup"},
    "entry": {"once": "profile"},
    "goal": "purchase",
    "steps": [
        {"id": "hi", "type": "send", "template": TPL, "next": "pause"},
        {"id": "pause", "type": "wait", "seconds": 60, "next": "nudge"},
        {"id": "nudge", "type": "send", "template": TPL, "next": "linger"},
        {"id": "linger", "type": "wait", "seconds": 3600, "next": "done"},  # the goal counts while running
        {"id": "done", "type": "exit"},
    ],
}


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def node(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningNode]:
    """A node whose journey poller does not loop (the test's service polls with its clock)."""
    extra: dict[str, Any] = {}
    if request.param == "mongo":
        extra = {
            "mongo_url": request.getfixturevalue("mongo_url"),
            "mongo_database": request.getfixturevalue("mongo_db"),
        }
    async with running_node(tmp_path, journey_interval=0, campaign_interval=0, **extra) as running:
        yield running


def test_a_journey_marker_names_its_journey_and_step() -> None:
    assert touch_source("journey:welcome", "hi") == "journey:welcome/hi"
    assert tag_id(touch_source("journey:a:b", "c:d")) == "journey:a:b", "ids may hold colons"
    assert touch_source("cmp_1", "a") == "campaign:cmp_1"
    assert touch_source("cmp_1@3", "a") == "campaign:cmp_1@3"


async def test_journey_steps_are_measured_per_step_and_tag_the_profile(node: RunningNode) -> None:
    app, s, store = node.app.app, node.node.services, node.node.store
    clock = Clock()
    j = service(node, clock)
    await j.create(app, "welcome", WELCOME)
    pids = {u: await profile(node, u, consent=u != "cy") for u in ("ann", "bob", "cy")}
    for n, pid in enumerate(pids.values()):
        await j.handle(event(node, pid, "signup", f"s{n}", clock.now))
    # ann reads the first message and answers it
    convs = [c for c, _ in await s.conversations.memberships(app, "ann") if c.meta.get("official")]
    (conv,) = convs
    history = await s.history.messages(app, conv.conv, 1, 100)
    assert len(history) >= 1
    await s.receipts.read(app, "ann", conv.conv, history[-1].seq)
    await s.messages.send(app, "ann", conv.conv, kind="text", body={"text": "thanks, looks good"})
    await s.measurement.drain()
    clock.now += 61_000
    assert await j.poll() == 3
    await j.handle(event(node, pids["bob"], "purchase", "p1", clock.now + 1))
    clock.now += 1_000
    await j.poll()
    await s.measurement.drain()
    tags = set((await s.audience.live_profile(app, pids["ann"])).tags)
    assert "engaged:journey:welcome" in tags, tags
    assert "engaged:journey" not in tags
    bob = set((await s.audience.live_profile(app, pids["bob"])).tags)
    assert "converted:journey:welcome" in bob, bob
    # nothing counted under the wrong (campaign) source
    assert await s.measurement.counts(app, "campaign:journey:welcome", "read") == {}
    async with AdminClient(node.http, node.api_key) as admin:
        doc = await admin.journey_results("welcome")
    steps = {row["step"]: row for row in doc["steps"]}
    assert list(steps) == ["hi", "nudge"], "send steps in definition order"
    hi, nudge = steps["hi"], steps["nudge"]
    assert (hi["targeted"], hi["sent"], hi["decisions"]) == (3, 2, {"no_consent": 1, "sent": 2})
    assert (hi["read"], hi["replied"], hi["delivered"], hi["converted"]) == (1, 1, 1, 0), hi
    assert (nudge["targeted"], nudge["sent"], nudge["converted"]) == (3, 2, 1), nudge
    assert doc["goal"] == "purchase" and doc["journey"] == "welcome"
    assert store is not None


async def test_results_of_an_unknown_journey_is_a_404(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        with pytest.raises(Exception) as err:
            await admin.journey_results("nope")
    assert "journey_not_found" in str(err.value)


async def test_a_later_journey_send_takes_the_last_touch_from_a_campaign(node: RunningNode) -> None:
    """Last touch counts journey sends: u0 got campaign A at -3 h and a journey message at -2 h, so
    their purchase at -1 h is not A's; u1 got only A, whose conversion it is."""
    app, s, store = node.app.app, node.node.services, node.node.store
    found = await store.get_audience_schema(app)
    events = {"purchase": {"properties": {}}, "signup": {"properties": {}}}
    await store.put_audience_schema(app, {**(found[1] if found else {}), "events": events}, 1)
    pids = {u: await profile(node, u) for u in ("u0", "u1")}
    now = now_ms()
    camp_clock = CampaignClock(now - 3 * HOUR)
    goal = Goal("purchase", window_s=3 * 3600)
    a = await sender(node, camp_clock).create(app, definition(list(pids.values()), goal=goal))
    assert await sender(node, camp_clock).run(app, a.cid) == "done"
    clock = Clock()
    clock.now = now - 2 * HOUR
    j = service(node, clock)
    await j.create(app, "hello", {**WELCOME, "goal": ""})
    assert await j.handle(event(node, pids["u0"], "signup", "s0", clock.now))
    row = await store.get_delivery(
        app, f"journey:{(await store.runs_of(app, 'hello', after='', limit=5))[0].rid}:hi", pids["u0"]
    )
    assert row is not None and row.state == "sent"
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.ingest_events(
            [{"eid": f"p{u}", "user": u, "event": "purchase", "ts": now - HOUR} for u in pids]
        )
    await s.conversions.drain()
    campaign = await s.campaigns.get(app, a.cid)
    doc = await s.results.results(campaign, s.campaigns.definition(campaign), 0.0)
    assert sum(arm["converted"] for arm in doc["arms"].values()) == 1, (
        "u1's only: u0's last touch was the journey"
    )


async def test_a_journey_messages_tracked_link_counts_for_its_step_and_a_segment_finds_the_tag(
    node: RunningNode,
) -> None:
    app, s = node.app.app, node.node.services
    shop = {"versions": {"en": {"text": "Hi", "buttons": [
        {"id": "shop", "label": "Shop", "action": "url", "url": "https://shop.example/"}]}}, "default": "en"}  # fmt: skip
    linked = {**WELCOME, "goal": "", "steps": [{"id": "hi", "type": "send", "template": shop}]}
    clock = Clock()
    j = service(node, clock)
    await j.create(app, "shop", linked)
    pid = await profile(node, "ann")
    assert await j.handle(event(node, pid, "signup", "s0", clock.now))
    (conv,) = [c for c, _ in await s.conversations.memberships(app, "ann") if c.meta.get("official")]
    (message,) = await s.history.messages(app, conv.conv, 1, 100)
    url = message.body["campaign"]["buttons"][0]["url"]
    assert url.startswith("/r/"), url
    async with httpx.AsyncClient() as http:
        followed = await http.get(f"{node.http}{url}", follow_redirects=False)
    assert (followed.status_code, followed.headers["location"]) == (302, "https://shop.example/")
    async with AdminClient(node.http, node.api_key) as admin:
        (step,) = (await admin.journey_results("shop"))["steps"]
        assert (step["step"], step["sent"], step["clicked"], step["delivered"]) == ("hi", 1, 1, 1)
        await admin.create_segment("engaged", "Engaged", 'tag("engaged:journey:shop")', mode="dynamic")
        assert (await admin.segment_members("engaged"))[0] == [pid]
