"""Campaign measurement end to end on a real node: the funnel per arm through the admin API, clicks and
replies and read receipts from SDK clients, conversions by the last-touch rule counted once however often events or
reads repeat, uplift and the split check, and the loop closing (a segment on ``converted:<cid>``)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.sdk import AdminClient, AdminError, Client, Message
from parley.sdk.campaigns import campaign_of
from parley.server.services.campaign_defs import Variant, pick_variant
from parley.server.services.policy_rules import bucket
from tests.harness import RunningNode, running_node
from tests.server.services.test_send_policy import profile

pytestmark = pytest.mark.timeout(90)

OFFER = {
    "versions": {
        "en": {
            "text": "Hi {{user}}, 20% off",
            "buttons": [{"id": "more", "label": "Tell me more", "action": "reply"}],
            "quick_replies": [{"id": "stop", "label": "Stop", "action": "opt_out"}],
        }
    },
    "default": "en",
}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path, campaign_interval=0.05) as running:
        yield running


async def finished(admin: AdminClient, cid: str) -> dict[str, Any]:
    for _ in range(400):
        campaign = await admin.campaign(cid)
        if campaign["state"] == "done":
            return campaign
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign {cid} did not finish: {campaign}")


async def campaign_message(node: RunningNode, user: str) -> tuple[Client, Message]:
    """A client of ``user`` (connected; the caller closes it) and the campaign message it was sent."""
    c = Client(node.url, token=await node.token(user))
    await c.connect()
    (summary,) = await c.conversations()
    (message,) = [m for m in (await c.history(summary.conv)).messages if campaign_of(m) is not None]
    return c, message


async def test_the_funnel_conversions_uplift_and_the_converted_tag(node: RunningNode) -> None:
    store = node.node.store
    found = await store.get_audience_schema(node.app.app)
    schema = {**(found[1] if found else {}), "events": {"purchase": {"properties": {}}}}
    await store.put_audience_schema(node.app.app, schema, 1)
    users = [f"u{i:02d}" for i in range(40)]
    pids = {u: await profile(node, u) for u in users}
    refusers = [await profile(node, f"n{i}", consent=False) for i in range(2)]
    async with AdminClient(node.http, node.api_key) as admin:
        variants = [
            {"id": "a", "weight": 50, "template": OFFER},
            {"id": "b", "weight": 50, "template": OFFER},
        ]
        goal = {"event": "purchase", "window_s": 3600}
        c1 = (await admin.create_campaign({
            "name": "Sale", "topic": "marketing", "pids": [*pids.values(), *refusers], "variants": variants,
            "holdout_pct": 25, "goal": goal,
        }))["cid"]  # fmt: skip
        assert (await finished(admin, c1))["counts"] == {
            "sent": sum(1 for p in pids.values() if bucket(f"holdout:{c1}", p) >= 25),
            "holdout": sum(1 for p in pids.values() if bucket(f"holdout:{c1}", p) < 25),
            "no_consent": 2,
        }
        arms = [Variant("a", 50, None), Variant("b", 50, None)]  # type: ignore[arg-type]
        held = [u for u in users if bucket(f"holdout:{c1}", pids[u]) < 25]
        sent = [u for u in users if u not in held]
        in_a = [u for u in sent if pick_variant(arms, bucket(f"variant:{c1}", pids[u])).id == "a"]
        clicker, stopper, buyer, later_buyer = in_a[0], in_a[1], in_a[2], in_a[3]
        # a click (twice: counted once) and a free-text reply; a tap on "stop": a click and an opt-out
        c, message = await campaign_message(node, clicker)
        await c.read(message.conv, message.seq)
        await c.read(message.conv, message.seq)  # a repeated receipt: read once
        await c.click(message, "more")
        await c.click(message, "more")
        await c.send(message.conv, "which sizes do you have?")
        await c.close()
        c, message = await campaign_message(node, stopper)
        await c.click(message, "stop")
        await c.close()
        # a second campaign touches later_buyer after c1: their purchase is c2's (last touch)
        c2 = (await admin.create_campaign({
            "name": "Follow-up", "topic": "marketing", "pids": [pids[later_buyer]],
            "variants": [{"id": "x", "weight": 100, "template": OFFER}], "goal": goal,
        }))["cid"]  # fmt: skip
        await finished(admin, c2)
        await asyncio.sleep(0.01)
        purchases = [
            {"eid": f"p-{u}", "user": u, "event": "purchase"} for u in (buyer, later_buyer, held[0], "n0")
        ]
        await admin.ingest_events(purchases)
        await admin.ingest_events(purchases)  # a retried ingest: duplicates, counted once
        await node.node.services.conversions.drain()  # credited as the events arrive
        await node.node.services.measurement.drain()
        first = await admin.campaign_results(c1)
        again = await admin.campaign_results(c1)
        assert first == again, "a second read counts nothing twice"
        a, b, control = (first["arms"][k] for k in ("a", "b", "control"))
        assert (a["read"], a["clicked"], a["replied"], a["opted_out"], a["converted"]) == (1, 2, 1, 1, 1)
        assert (b["read"], b["clicked"], b["replied"], b["converted"]) == (0, 0, 0, 0)
        assert control["converted"] == 1 and control["exposed"] == len(held) and control["sent"] == 0
        assert a["sent"] + b["sent"] == len(sent) and a["targeted"] + b["targeted"] == len(sent) + 2
        assert a["decisions"].get("no_consent", 0) + b["decisions"].get("no_consent", 0) == 2
        pooled = first["uplift"]["pooled"]
        expected = 1 / len(sent) - 1 / len(held)
        assert pooled["difference"] == pytest.approx(expected) and pooled["low"] < expected < pooled["high"]
        assert (
            first["uplift"]["method"] == "newcombe_hybrid_score_95" and first["attribution"] == "last_touch"
        )
        assert first["srm"]["df"] == 2 and first["srm"]["expected_shares"]["control"] == pytest.approx(0.25)
        assert (await admin.campaign_results(c2))["arms"]["x"]["converted"] == 1
        # the loop closes: the converted profiles carry the tag, so a segment finds them
        await admin.create_segment("converted", "Converted", f'tag("converted:{c1}")', mode="dynamic")
        members, _ = await admin.segment_members("converted")
        assert sorted(members) == sorted([pids[buyer], pids[held[0]]])
        await admin.create_segment("engaged", "Engaged", f'tag("engaged:{c1}")', mode="dynamic")
        assert sorted((await admin.segment_members("engaged"))[0]) == sorted([pids[clicker], pids[stopper]])
        with pytest.raises(AdminError) as err:
            await admin.campaign_results("cmp_missing")
        assert (err.value.status, err.value.code) == (404, "campaign_not_found")


async def test_a_goal_that_cannot_be_measured_is_refused(node: RunningNode) -> None:
    pid = await profile(node, "ann")
    async with AdminClient(node.http, node.api_key) as admin:
        base = {"name": "x", "topic": "marketing", "pids": [pid],
                "variants": [{"id": "a", "weight": 100, "template": OFFER}]}  # fmt: skip
        for goal in ({"event": "", "window_s": 3600}, {"event": "buy", "window_s": 10}, {"event": "b y"}):
            with pytest.raises(AdminError) as err:
                await admin.create_campaign({**base, "goal": goal})
            assert (err.value.status, err.value.code) == (422, "campaign_invalid")
        assert await admin.campaigns() == []


async def test_a_url_button_is_a_signed_tracked_redirect(node: RunningNode) -> None:
    pid = await profile(node, "ann")
    shop = {"versions": {"en": {"text": "Sale", "buttons": [
        {"id": "shop", "label": "Shop", "action": "url", "url": "https://shop.example/sale?x=1"}]}}, "default": "en"}  # fmt: skip
    async with AdminClient(node.http, node.api_key) as admin:
        cid = (await admin.create_campaign({
            "name": "Links", "topic": "marketing", "pids": [pid], "variants": [{"id": "a", "weight": 100, "template": shop}],
        }))["cid"]  # fmt: skip
        await finished(admin, cid)
        c, message = await campaign_message(node, "ann")
        link = await c.click(message, "shop")
        await c.close()
        assert isinstance(link, str) and link.startswith(f"{node.http}/r/"), link
        async with httpx.AsyncClient() as http:
            for _ in range(2):  # opened twice: one click
                followed = await http.get(link, follow_redirects=False)
                assert (
                    followed.status_code == 302
                    and followed.headers["location"] == "https://shop.example/sale?x=1"
                )
            token = link.rsplit("/", 1)[1]
            payload, sig = token.split(".")
            forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            forged["u"] = "https://evil.example/"
            raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
            for bad in (f"{raw}.{sig}", "garbage", f"{payload}.AAAA", "a.b.c", f"{payload}"):
                refused = await http.get(f"{node.http}/r/{bad}", follow_redirects=False)
                assert (refused.status_code, refused.json()["code"]) == (404, "link_invalid"), bad
        results = await admin.campaign_results(cid)
        assert results["arms"]["a"]["clicked"] == 1
        await admin.create_segment("clicked", "Clicked", f'tag("engaged:{cid}")', mode="dynamic")
        assert (await admin.segment_members("clicked"))[0] == [pid]
