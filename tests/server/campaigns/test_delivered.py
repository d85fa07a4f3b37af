"""The ``delivered`` count: a recipient counts once a campaign message was handed to one of their live
connections when it was sent, or returned to them later by sync or history, or read (read implies
delivered) — each recipient once, and ordinary chat messages never decoded or written for it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from parley.sdk import Client
from parley.sdk.campaigns import campaign_of
from tests.harness import RunningNode, running_node
from tests.server.services.test_campaigns import definition
from tests.server.services.test_send_policy import profile


async def delivered(node: RunningNode, cid: str) -> dict[str, Any]:
    """The campaign's results after the node has counted what it saw."""
    s = node.node.services
    await s.delivered.drain()
    await s.measurement.drain()
    campaign = await s.campaigns.get(node.app.app, cid)
    return await s.results.results(campaign, s.campaigns.definition(campaign), 0.0)


def total(results: dict[str, Any], kind: str) -> int:
    return sum(arm[kind] for arm in results["arms"].values())


async def test_delivered_live_then_by_history_or_read_each_recipient_once(node: RunningNode) -> None:
    app, s = node.app.app, node.node.services
    pids = [await profile(node, u) for u in ("live", "later", "reader", "never")]
    settings = await s.send_policy.settings(app)
    conv = {u: await s.official.conversation(app, u, settings) for u in ("live", "reader")}
    live = Client(node.url, token=await node.token("live"))
    await live.connect()  # a member of its brand conversation already: the message is pushed to it
    try:
        campaign = await s.campaigns.create(app, definition(pids))
        assert await s.campaigns.run(app, campaign.cid) == "done"
        for _ in range(200):
            if total(await delivered(node, campaign.cid), "delivered") == 1:
                break
            await asyncio.sleep(0.02)
        first = await delivered(node, campaign.cid)
        assert (total(first, "sent"), total(first, "delivered"), total(first, "read")) == (4, 1, 0)
        # "later" comes online and fetches its history: delivered now; fetching again counts nothing new
        later = Client(node.url, token=await node.token("later"))
        await later.connect()
        (summary,) = await later.conversations()
        for _ in range(2):
            page = await later.history(summary.conv)
            assert [campaign_of(m) is not None for m in page.messages] == [True]
        await later.close()
        # "reader" never connects; its read receipt reaches the message: read, and so delivered
        await s.receipts.read(app, "reader", conv["reader"], 1)
        for _ in range(200):
            result = await delivered(node, campaign.cid)
            if total(result, "read") == 1 and total(result, "delivered") == 3:
                break
            await asyncio.sleep(0.02)
        assert (total(result, "delivered"), total(result, "read")) == (3, 1), result["arms"]
        # ordinary chat between customers and with the brand: not one frame decoded for the count
        decoded = s.delivered.decoded
        await live.send(conv["live"], "hello brand, a campaign question")
        other = await live.create_direct("later")
        await live.send(other.conv, "a campaign")
        await s.delivered.drain()
        assert s.delivered.decoded == decoded
        # a customer's body that looks like a marker is decoded, never counted (not the brand's message)
        counted = s.delivered.counted
        await live.send(other.conv, body={"text": "x", "campaign": {"id": campaign.cid}}, kind="text")
        await live.send(conv["live"], body={"text": "x", "campaign": {"id": campaign.cid}}, kind="text")
        await s.delivered.drain()
        assert s.delivered.counted == counted
        assert total(await delivered(node, campaign.cid), "delivered") == 3
    finally:
        await live.close()


async def test_a_push_on_another_node_counts_delivered_once(tmp_path: Path, redis_url: str) -> None:
    shared: dict[str, Any] = {"redis_url": redis_url, "campaign_interval": 0}
    async with running_node(tmp_path, node_id="n1", **shared) as one:  # noqa: SIM117 - two needs one's app
        async with running_node(tmp_path, node_id="n2", app=(one.app, one.api_key), **shared) as two:
            app, s1, s2 = one.app.app, one.node.services, two.node.services
            pid = await profile(one, "ann")
            await s1.official.conversation(app, "ann", await s1.send_policy.settings(app))
            async with Client(two.url, token=await two.token("ann")):  # online on node two
                campaign = await s1.campaigns.create(app, definition([pid]))
                assert await s1.campaigns.run(app, campaign.cid) == "done"  # sent by node one
                for _ in range(250):
                    await s2.delivered.drain()
                    if await s1.measurement.counts(app, f"campaign:{campaign.cid}", "delivered"):
                        break
                    await asyncio.sleep(0.02)
                assert s2.delivered.counted == 1 and s1.delivered.counted == 0, "counted by ann's node"
                assert total(await delivered(one, campaign.cid), "delivered") == 1
