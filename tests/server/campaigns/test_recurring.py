"""Recurring campaigns: each occurrence is its own send (own dedupe key: everyone once per occurrence,
never twice — not on a retry, not with two senders), results per occurrence and overall, and a bad
recurrence refused with its code through the admin API, nothing stored."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from parley.proto.campaign import read_marker
from parley.sdk import AdminClient, AdminError
from parley.server.ids import now_ms
from parley.server.services.campaign_schedule import Recurrence
from parley.server.services.send_policy import SendRequest
from tests.harness import RunningNode
from tests.server.campaigns.clocked import Clock, sender
from tests.server.services.test_campaigns import definition
from tests.server.services.test_send_policy import official_messages, profile

DAY = 86_400_000
TEMPLATE = {"versions": {"en": {"text": "Daily deal"}}, "default": "en"}


async def test_each_occurrence_reaches_everyone_once_even_with_retries_and_two_senders(
    node: RunningNode,
) -> None:
    app, s = node.app.app, node.node.services
    pids = [await profile(node, f"u{i}") for i in range(3)] + [await profile(node, "no", consent=False)]
    t0 = now_ms()
    clock = Clock(t0)
    one, two = sender(node, clock), sender(node, clock)
    body = definition(pids, recurrence=Recurrence("day", max_occurrences=3))
    campaign = await one.create(app, body)
    assert await one.run(app, campaign.cid) == "running", "waits for the next occurrence"
    moved = await s.campaigns.get(app, campaign.cid)
    assert (moved.start_at, moved.cursor) == (t0 + DAY, "1/")
    assert await one.run(app, campaign.cid) == "running" and await s.campaigns.counts(app, campaign.cid) == {
        "sent": 3, "no_consent": 1,
    }, "not due yet: nothing more"  # fmt: skip
    # a retry of occurrence 0 is a duplicate; occurrence 1 is a new send for the same recipient
    variant = s.campaigns.definition(campaign).variants[0]
    retry = SendRequest(app=app, key=f"campaign:{campaign.cid}@0", pid=pids[0], template=variant.template,
                        campaign=campaign.cid, topic="marketing", occurrence=0)  # fmt: skip
    assert (await s.send_policy.send(retry, now=t0)).outcome == "duplicate"
    clock.now = t0 + DAY
    assert await one.run(app, campaign.cid) == "running"
    clock.now = t0 + 2 * DAY  # the last occurrence: two senders at once
    states = await asyncio.gather(one.run(app, campaign.cid), two.run(app, campaign.cid))
    assert "done" in states or (await s.campaigns.get(app, campaign.cid)).state == "done"
    assert await one.run(app, campaign.cid) == "done"
    assert await s.campaigns.counts(app, campaign.cid) == {"sent": 9, "no_consent": 3}
    for i in range(3):
        got = [read_marker(m.body) for m in await official_messages(node, f"u{i}")]
        assert sorted(m.id for m in got if m) == [f"{campaign.cid}@{n}" for n in range(3)]
    assert await official_messages(node, "no") == []
    results = await s.results.results(campaign := await s.campaigns.get(app, campaign.cid),
                                      s.campaigns.definition(campaign), 0.0, bucket="day")  # fmt: skip
    assert [(o["occurrence"], o["sent"]) for o in results["occurrences"]] == [(0, 3), (1, 3), (2, 3)]
    assert sum(a["sent"] for a in results["arms"].values()) == 9
    assert [b["sent"] for b in results["timeline"]] == [3, 3, 3], "one UTC day each"
    assert all(b["start"] % DAY == 0 for b in results["timeline"])
    hourly = await s.results.results(campaign, s.campaigns.definition(campaign), 0.0)
    assert len(hourly["timeline"]) == 49 and sum(b["sent"] for b in hourly["timeline"]) == 9, "dense hours"
    only = await s.results.results(campaign, s.campaigns.definition(campaign), 0.0, occurrence=1)
    assert sum(a["sent"] for a in only["arms"].values()) == 3 and len(only["occurrences"]) == 1


async def test_a_sender_that_was_down_skips_to_the_latest_open_occurrence(node: RunningNode) -> None:
    app, s = node.app.app, node.node.services
    pids = [await profile(node, "u0")]
    t0 = now_ms()
    clock = Clock(t0)
    one = sender(node, clock)
    campaign = await one.create(
        app, definition(pids, recurrence=Recurrence("interval", 3600, until=t0 + 10 * 3_600_000))
    )
    assert await one.run(app, campaign.cid) == "running"
    clock.now = t0 + 5 * 3_600_000 + 60_000  # occurrences 1-4 were missed while no sender ran
    assert await one.run(app, campaign.cid) == "running"
    assert (await s.campaigns.get(app, campaign.cid)).cursor.startswith("6/")
    assert len(await official_messages(node, "u0")) == 2, (
        "occurrence 0 and occurrence 5, no burst of the missed"
    )


BAD = [
    ({"every": "month", "max_occurrences": 2}, "every"),
    ({"every": "interval", "max_occurrences": 2}, "interval_s"),
    ({"every": "interval", "interval_s": 10, "max_occurrences": 2}, "interval_s"),
    ({"every": "day", "interval_s": 3600, "max_occurrences": 2}, "interval_s"),
    ({"every": "day"}, "end"),
    ({"every": "day", "max_occurrences": 5000}, "max_occurrences"),
    ({"every": "day", "until": 1_000}, "until"),
    ({"every": "interval", "interval_s": 3600, "until": 2**52}, "occurrences"),
]


@pytest.mark.parametrize(("recurrence", "says"), BAD)
async def test_a_bad_recurrence_is_422_campaign_invalid_and_nothing_is_stored(
    node: RunningNode, recurrence: dict[str, Any], says: str
) -> None:
    pid = await profile(node, "ann")
    base = {"name": "x", "topic": "marketing", "pids": [pid], "variants": [{"id": "a", "weight": 100, "template": TEMPLATE}]}  # fmt: skip
    async with AdminClient(node.http, node.api_key) as admin:
        with pytest.raises(AdminError) as err:
            await admin.create_campaign({**base, "recurrence": recurrence})
        assert (err.value.status, err.value.code) == (422, "campaign_invalid")
        assert "recurrence" in str(err.value) and says in str(err.value), str(err.value)
        for more in ({"stale_after": now_ms() + DAY}, {"local_time": "10:00"}):
            with pytest.raises(AdminError) as err:
                rec = {"every": "interval", "interval_s": 3600, "max_occurrences": 2}
                await admin.create_campaign({**base, **more, "recurrence": rec})
            assert (err.value.status, err.value.code) == (422, "campaign_invalid")
        with pytest.raises(AdminError) as err:
            await admin.create_campaign(
                {**base, "recurrence": {"every": "day", "max_occurrences": 2, "hourly": 1}}
            )
        assert err.value.status == 422
        assert await admin.campaigns() == []
        ok = await admin.create_campaign({**base, "recurrence": {"every": "day", "max_occurrences": 2}})
        with pytest.raises(AdminError) as err:
            await admin.campaign_results(ok["cid"], bucket="week")
        assert (err.value.status, err.value.code) == (422, "invalid_request")
        with pytest.raises(AdminError) as err:
            await admin.campaign_results(ok["cid"], occurrence=7)
        assert (err.value.status, err.value.code) == (422, "invalid_request")


async def test_a_daily_campaign_at_a_local_time_waits_for_each_recipients_nine_oclock(
    node: RunningNode,
) -> None:
    app, store = node.app.app, node.node.store
    zones = {"sh": "Asia/Shanghai", "ny": "America/New_York"}
    pids = {u: await profile(node, u, timezone=tz) for u, tz in zones.items()}
    t0 = now_ms()
    clock = Clock(t0)
    one = sender(node, clock)
    body = definition(
        sorted(pids.values()), local_time="09:00", recurrence=Recurrence("day", max_occurrences=2)
    )
    campaign = await one.create(app, body)
    for n in range(2):
        key = f"campaign:{campaign.cid}@{n}"
        clock.now = max(clock.now, t0 + n * DAY)  # occurrence n opens
        await one.run(app, campaign.cid)
        waiting = await store.deferred_deliveries(app, key, due_by=2**62, limit=10)
        assert len(waiting) == 2, f"occurrence {n}: both wait for their local time"
        for row in waiting:
            tz = zones[next(u for u, p in pids.items() if p == row.pid)]
            local = datetime.fromtimestamp(row.retry_at / 1000, ZoneInfo(tz))
            assert (local.hour, local.minute) == (9, 0) and row.retry_at >= t0 + n * DAY
        clock.now = max(row.retry_at for row in waiting) + 60_000
        await one.run(app, campaign.cid)
        assert (await store.count_deliveries(app, key)) == {"sent": 2}
    assert await one.run(app, campaign.cid) == "done"
    for u in zones:
        assert len(await official_messages(node, u)) == 2
