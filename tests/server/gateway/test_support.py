"""Customer service over the real gateway: hand-off state machine, agents, notes, profiles, CSAT."""

from __future__ import annotations

import asyncio
from typing import Any

from parley.proto import frames
from tests.harness import RunningNode
from tests.wsclient import RawClient


async def as_role(node: RunningNode, user: str, role: str) -> RawClient:
    await node.node.services.apps.upsert_user(node.app.app, user, role=role)
    return await RawClient.connect(node.url, await node.token(user))


async def support_events(client: RawClient, count: int) -> list[dict[str, Any]]:
    events = []
    while len(events) < count:
        m = (await client.expect(frames.Msg)).m
        if m.kind == "system" and m.body["event"] in ("support", "csat_request", "csat"):
            events.append(m.body)
    return events


async def test_handoff_claim_silence_release_resolve_and_rate(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    bot = await as_role(node, "parley-bot", "bot")
    conv = (await customer.request(frames.ConvCreate, kind="support")).conv
    assert {m.user: m.role for m in conv.members} == {"cust": "member", "parley-bot": "admin"}
    assert conv.meta["support"]["state"] == "bot"
    c = conv.conv
    assert isinstance(
        await bot.request(frames.Send, conv=c, cmid="b1", body={"text": "Hi! How can I help?"}), frames.Ack
    )
    await customer.request(
        frames.Send, conv=c, cmid="q1", body={"text": "my parcel never arrived, order 1234"}
    )

    # No agent online: the conversation waits, with a summary for whoever takes it.
    assert isinstance(await bot.request(frames.SupportHandoff, conv=c, reason="asked for a human"), frames.Ok)
    (waiting,) = await support_events(customer, 1)
    assert waiting["state"] == "waiting_for_agent" and "summary" not in waiting
    agent = await as_role(node, "ann", "agent")
    queue = await agent.request(frames.SupportQueue)
    assert [i.conv for i in queue.waiting] == [c]
    assert "order 1234" in queue.waiting[0].meta["support"]["summary"], "the summary is for agents"

    claimed = await agent.request(frames.SupportClaim, conv=c)
    assert isinstance(claimed, frames.ConvResult) and claimed.conv.meta["support"]["agent"] == "ann"
    (owned,) = await support_events(customer, 1)
    assert (owned["state"], owned["agent"]) == ("agent", "ann")
    silenced = await bot.request(frames.Send, conv=c, cmid="b2", body={"text": "me again"})
    assert isinstance(silenced, frames.Error) and silenced.code == "forbidden"
    await agent.request(frames.Send, conv=c, cmid="a1", body={"text": "Ann here, let me check"})
    got = await customer.expect(frames.Msg)
    assert got.m.sender == "ann"

    note = await agent.request(frames.SupportNote, conv=c, text="carrier lost it; refund")
    assert isinstance(note, frames.Ack) and note.conv != c
    assert isinstance(
        await bot.request(
            frames.ProfileTag, user="cust", add=[frames.TagInput(name="issue:lost_parcel", confidence=0.9)]
        ),
        frames.Ok,
    )
    profile = (await agent.request(frames.ProfileGet, user="cust")).profile
    assert [(t.name, t.source) for t in profile.tags] == [("issue:lost_parcel", "bot")]
    predicted = frames.TagInput(name="intent:refund", confidence=0.7)
    assert isinstance(
        await bot.request(frames.ProfileTag, user="cust", add=[predicted], source="model"), frames.Ok
    )
    bogus = await bot.request(frames.ProfileTag, user="cust", add=[predicted], source="agent")
    assert isinstance(bogus, frames.Error) and bogus.code == "invalid_request"
    profile = (await agent.request(frames.ProfileGet, user="cust")).profile
    assert {t.name: t.source for t in profile.tags}["intent:refund"] == "model"

    assert isinstance(await agent.request(frames.SupportRelease, conv=c), frames.Ok)
    (back,) = await support_events(customer, 1)
    assert back["state"] == "bot"
    assert isinstance(
        await bot.request(frames.Send, conv=c, cmid="b3", body={"text": "Anything else?"}), frames.Ack
    )
    assert isinstance(await bot.request(frames.SupportResolve, conv=c), frames.Ok)
    resolved, asked = await support_events(customer, 2)
    assert resolved["state"] == "resolved" and asked["event"] == "csat_request"
    assert isinstance(await customer.request(frames.SupportRate, conv=c, score=5), frames.Ok)
    profile = (await agent.request(frames.ProfileGet, user="cust")).profile
    assert profile.counters["csat_5"] == 1 and "csat:5" in {t.name for t in profile.tags}
    page = await customer.request(frames.History, conv=c)
    assert "carrier lost it; refund" not in str([m.body for m in page.messages]), (
        "notes never reach the customer"
    )
    for client in (customer, bot, agent):
        await client.close()


async def test_online_agent_is_assigned_automatically_least_loaded_first(node: RunningNode) -> None:
    busy = await as_role(node, "busy", "agent")
    idle = await as_role(node, "idle", "agent")
    first_customer = await RawClient.connect(node.url, await node.token("c1"))
    c1 = (await first_customer.request(frames.ConvCreate, kind="support")).conv.conv
    await busy.request(frames.SupportClaim, conv=c1)
    customer = await RawClient.connect(node.url, await node.token("c2"))
    c2 = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    assert isinstance(await customer.request(frames.SupportHandoff, conv=c2, reason="人工"), frames.Ok)
    waiting, assigned = await support_events(customer, 2)
    assert waiting["state"] == "waiting_for_agent"
    assert (assigned["state"], assigned["agent"]) == ("agent", "idle")
    for client in (busy, idle, first_customer, customer):
        await client.close()


async def test_only_one_of_two_racing_agents_wins_a_claim(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    c = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    await customer.request(frames.SupportHandoff, conv=c)
    a, b = await as_role(node, "a", "agent"), await as_role(node, "b", "agent")
    replies = await asyncio.gather(
        a.request(frames.SupportClaim, conv=c), b.request(frames.SupportClaim, conv=c)
    )
    kinds = sorted(type(r).__name__ for r in replies)
    assert kinds == ["ConvResult", "Error"]
    for client in (customer, a, b):
        await client.close()


async def test_roles_are_enforced(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    c = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    for frame_type, fields in [
        (frames.SupportClaim, {"conv": c}),
        (frames.SupportQueue, {}),
        (frames.ProfileGet, {"user": "cust"}),
        (frames.SupportResolve, {"conv": c}),
    ]:
        reply = await customer.request(frame_type, **fields)
        assert isinstance(reply, frames.Error) and reply.code == "forbidden", frame_type
    agent = await as_role(node, "ann", "agent")
    other = await as_role(node, "bo", "agent")
    await agent.request(frames.SupportClaim, conv=c)
    denied = await other.request(frames.SupportRelease, conv=c)
    assert isinstance(denied, frames.Error) and denied.code == "forbidden"
    wrong = await customer.request(frames.SupportRate, conv=c, score=3)
    assert isinstance(wrong, frames.Error) and wrong.code == "invalid_request"
    not_support = (await customer.request(frames.ConvCreate, kind="group", members=[])).conv.conv
    missing = await customer.request(frames.SupportHandoff, conv=not_support)
    assert isinstance(missing, frames.Error) and missing.code == "not_found"
    for client in (customer, agent, other):
        await client.close()


async def test_a_bots_send_takes_the_checked_path_and_is_not_echoed_to_it_either(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust2"))
    bot = await as_role(node, "parley-bot", "bot")
    c = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    ack = await bot.request(frames.Send, conv=c, cmid="hello", body={"text": "Hi!"})
    assert isinstance(ack, frames.Ack)
    got = await customer.expect(frames.Msg)
    while got.m.seq != ack.seq:
        got = await customer.expect(frames.Msg)
    assert got.m.sender == "parley-bot"
    await customer.request(frames.Send, conv=c, cmid="q", body={"text": "where is my parcel?"})
    later = await bot.expect(frames.Msg)
    while later.m.kind == "system":
        later = await bot.expect(frames.Msg)
    assert (later.m.sender, later.m.seq) == ("cust2", ack.seq + 1), (
        "the bot's own message was not pushed back"
    )
    await customer.close()
    await bot.close()
