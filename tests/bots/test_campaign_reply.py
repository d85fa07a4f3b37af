"""A reply to a campaign continues as support in the brand conversation, end to end over loopback: an SDK
customer gets a campaign, answers "where is my order?", a ticket naming the campaign appears, the bot
(with the LLM stub) answers in the same conversation, an agent claims it and sees the campaign, and
the next campaign is ``suppressed_support`` while the case is open. SQLite and MongoDB.
The journey hand-over step on a node: a ticket waiting for an agent with the journey's run and step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.bots.knowledge import KnowledgeIndex
from parley.sdk import AdminClient, CampaignEvent, MessageEvent
from tests.bots.llm_stub import LLMStub, Reply
from tests.bots.test_runner import BOT, connect, running_bot, support_event
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first

pytestmark = pytest.mark.timeout(120)
BACKENDS = ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)]
OFFER = {"versions": {"en": {"text": "Hi {{first_name|there}}, boots are 20% off today"}}, "default": "en"}
SCHEMA: dict[str, Any] = {
    "attributes": {"first_name": {"type": "string"}},
    "consent_topics": ["marketing"],
    "events": {"big_spender": {"properties": {}}},
}


def store_args(backend: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if backend != "mongo":
        return {}
    return {
        "mongo_url": request.getfixturevalue("mongo_url"),
        "mongo_database": request.getfixturevalue("mongo_db"),
    }


async def ticket(node: RunningNode, conv: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """``GET /v1/support/tickets/{conv}`` (as the back-end and the console read it) once ``ready``."""
    async with httpx.AsyncClient(
        base_url=node.http, headers={"Authorization": f"Bearer {node.api_key}"}
    ) as h:
        for _ in range(400):
            got = await h.get(f"/v1/support/tickets/{conv}")
            if got.status_code == 200 and ready(got.json()):
                return dict(got.json())
            await asyncio.sleep(0.025)
    raise AssertionError(f"no such ticket on {conv}: {got.status_code} {got.text}")


async def finished(admin: AdminClient, cid: str) -> dict[str, Any]:
    for _ in range(400):
        found = await admin.campaign(cid)
        if found["state"] == "done":
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"campaign {cid} did not finish: {found}")


async def campaign(admin: AdminClient, name: str, pid: str) -> str:
    made = await admin.create_campaign(
        {
            "name": name,
            "topic": "marketing",
            "pids": [pid],
            "variants": [{"id": "a", "weight": 100, "template": OFFER}],
        }
    )
    return str(made["cid"])


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_reply_to_a_campaign_is_answered_by_the_bot_and_the_agent_sees_the_campaign(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest, kb_index: KnowledgeIndex, stub: LLMStub
) -> None:
    stub.default = lambda req: Reply(text="Your order ships within 2 days; track it under My orders.")
    async with (
        running_node(tmp_path, campaign_interval=0.05, **store_args(backend, request)) as node,
        AdminClient(node.http, node.api_key) as admin,
        running_bot(node, kb_index, stub) as bot,
        connect(node, "cust") as customer,
    ):
        await admin.set_audience_schema(SCHEMA)
        who = await admin.identify([("user", "cust")])
        await admin.update_audience_profile(who.pid, consent={"marketing": "granted"}, ref="test")
        inbox = customer.events(MessageEvent)
        offers = customer.events(CampaignEvent)
        cid = await campaign(admin, "Winter boots", who.pid)
        got = await first(offers, lambda e: True, 20)
        conv = got.message.conv

        await customer.send(conv, "where is my order?")
        answer = (
            await first(inbox, lambda e: e.message.sender == BOT and e.message.kind == "text", 30)
        ).message
        assert answer.conv == conv and "ships within 2 days" in (answer.text or ""), (
            "the bot, in the same chat"
        )
        opened = await ticket(node, conv, lambda t: t["state"] == "bot")
        assert opened["customer"] == "cust"
        assert opened["origin"]["campaign"] == cid and opened["origin"]["variant"] == "a"
        assert opened["origin"]["message"] == got.message.mid

        async with connect(node, "agent1", "agent") as agent:
            claimed = await agent.claim(conv)
            assert claimed.meta["support"]["origin"]["campaign"] == cid, "the agent sees the campaign"
            await first(inbox, support_event("agent"), 10)
            await agent.send(conv, "Hi, I'm checking order 42 for you.")
            second = await campaign(admin, "Winter boots, again", who.pid)
            assert (await finished(admin, second))["counts"] == {"suppressed_support": 1}
        await node.node.services.measurement.drain()
        results = await admin.campaign_results(cid)
        assert results["arms"]["a"]["replied"] == 1, (
            "the customer replied; the bot's and agent's words are no replies"
        )
        assert not bot.stats.get("errors")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_journey_hand_over_step_waits_for_an_agent_with_the_journey_visible(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    journey = {
        "name": "vip", "trigger": {"event": "big_spender"},
        "steps": [{"id": "agent", "type": "handover", "reason": "VIP: call them"}],
    }  # fmt: skip
    async with (
        running_node(tmp_path, journey_interval=0.05, **store_args(backend, request)) as node,
        AdminClient(node.http, node.api_key) as admin,
        connect(node, "cust") as customer,
    ):
        await admin.set_audience_schema(SCHEMA)
        who = await admin.identify([("user", "cust")])
        await admin.create_journey("vip", journey)
        await customer.track("big_spender", {})
        s = node.node.services
        for _ in range(400):
            settings = await s.send_policy.settings(node.app.app)
            conv = await s.official.conversation(node.app.app, "cust", settings)
            found = await s.support.find_ticket(node.app.app, conv)
            if found is not None:
                break
            await asyncio.sleep(0.025)
        waiting = await ticket(node, conv, lambda t: t["state"] == "waiting_for_agent")
        assert waiting["origin"]["kind"] == "journey" and waiting["origin"]["journey"] == "vip"
        assert waiting["origin"]["step"] == "agent" and waiting["reason"] == "VIP: call them"
        async with connect(node, "agent1", "agent") as agent:
            queue = await agent.support_queue()
            assert [c.meta["support"]["origin"]["run"] for c in queue.waiting] == [waiting["origin"]["run"]]
        assert who.pid
