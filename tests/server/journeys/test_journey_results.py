"""Journey sends are measured per journey and step, on SQLite and the MongoDB wire server: a read and a
reply of a journey message count under that journey's step (not under a campaign called
``journey``), tag the profile ``engaged:journey:<jid>``, a goal event credits the run's last sent step
(``converted:journey:<jid>``), and ``GET /v1/journeys/{jid}/results`` gives each step's funnel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.sdk import AdminClient
from parley.server.services.measurement import tag_id, touch_source
from tests.harness import RunningNode, running_node
from tests.server.journeys.test_journeys import Clock, event, service
from tests.server.services.test_send_policy import profile

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
