"""Customer service under attack (issue 10, item 11): who may act and write in a support conversation.

Each test drives the real gateway with raw frames, as a hostile customer, agent or bot would.
"""

from __future__ import annotations

from typing import Any

from parley.proto import frames
from tests.harness import RunningNode
from tests.server.gateway.test_support import as_role, support_events
from tests.wsclient import RawClient


def refused(reply: Any, code: str = "forbidden") -> bool:
    return isinstance(reply, frames.Error) and reply.code == code


async def support_conv(node: RunningNode, customer: RawClient, **fields: Any) -> str:
    conv: str = (await customer.request(frames.ConvCreate, kind="support", **fields)).conv.conv
    return conv


async def test_a_failed_claim_gives_the_losing_agent_no_access(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    c = await support_conv(node, customer)
    await customer.request(frames.Send, conv=c, cmid="q", body={"text": "my card number is 4111"})
    ann, bo = await as_role(node, "ann", "agent"), await as_role(node, "bo", "agent")
    assert isinstance(await ann.request(frames.SupportClaim, conv=c), frames.ConvResult)
    await ann.request(frames.SupportNote, conv=c, text="customer is a VIP")

    assert refused(await bo.request(frames.SupportClaim, conv=c), "invalid_request")
    assert await node.node.store.get_member(node.app.app, c, "bo") is None, "no membership"
    assert refused(await bo.request(frames.History, conv=c))
    assert refused(await bo.request(frames.ConvGet, conv=c))
    assert refused(await bo.request(frames.MemberRemove, conv=c, users=["ann"]))
    notes = (await node.node.services.support.ticket(node.app.app, c)).notes_conv
    assert refused(await bo.request(frames.History, conv=notes)), "nor to the internal notes"
    members = {m.user for m in await node.node.store.list_members(node.app.app, c)}
    assert "ann" in members
    for client in (customer, ann, bo):
        await client.close()


async def test_users_a_customer_names_get_no_privileges_and_meta_support_follows_the_ticket(
    node: RunningNode,
) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    bot = await as_role(node, "parley-bot", "bot")
    pal = await RawClient.connect(node.url, await node.token("pal"))
    created = (await customer.request(frames.ConvCreate, kind="support", members=["pal"])).conv
    c = created.conv
    assert {m.user: m.role for m in created.members} == {
        "cust": "member",
        "pal": "member",
        "parley-bot": "admin",
    }
    ack = await bot.request(frames.Send, conv=c, cmid="b1", body={"text": "Hi, I am the bot"})
    assert refused(await pal.request(frames.Recall, conv=c, seq=ack.seq))
    assert refused(await pal.request(frames.MemberRemove, conv=c, users=["parley-bot"]))
    assert refused(await pal.request(frames.MemberAdd, conv=c, users=["mallory"], role="admin"))
    forged = {"support": {"state": "resolved", "agent": "pal"}}
    assert refused(await pal.request(frames.ConvUpdate, conv=c, meta=forged))
    assert refused(await customer.request(frames.ConvUpdate, conv=c, meta=forged))
    # Even the bot (an admin of the conversation) cannot make the meta disagree with the ticket.
    assert refused(await bot.request(frames.ConvUpdate, conv=c, meta=forged))
    ticket = await node.node.services.support.ticket(node.app.app, c)
    meta = (await customer.request(frames.ConvGet, conv=c)).conv.meta
    assert (ticket.state, meta["support"]["state"]) == ("bot", "bot")
    # Other meta keys stay the bot's to set; the support state survives the update.
    kept = await bot.request(frames.ConvUpdate, conv=c, meta={"topic": "refund"})
    assert isinstance(kept, frames.ConvResult) and kept.conv.meta["support"]["state"] == "bot"
    for client in (customer, bot, pal):
        await client.close()


async def test_hand_over_reason_and_summary_reach_agents_never_the_customer(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    bot = await as_role(node, "parley-bot", "bot")
    c = await support_conv(node, customer)
    await customer.request(frames.Send, conv=c, cmid="q", body={"text": "this is useless"})
    secret_reason, secret_summary = "sentiment:strong", "angry customer, LLM thinks they will churn"
    handed = await bot.request(frames.SupportHandoff, conv=c, reason=secret_reason, summary=secret_summary)
    assert isinstance(handed, frames.Ok)
    (event,) = await support_events(customer, 1)
    assert event["state"] == "waiting_for_agent"
    seen = [event, (await customer.request(frames.ConvGet, conv=c)).conv.meta]
    seen += [m.body for m in (await customer.request(frames.History, conv=c)).messages]
    seen += [s.last.body for s in (await customer.request(frames.ConvList)).convs if s.last]
    for text in (secret_reason, secret_summary):
        assert text not in repr(seen), "the customer never sees the hand-over reason or summary"

    agent = await as_role(node, "ann", "agent")
    (waiting,) = (await agent.request(frames.SupportQueue)).waiting
    assert waiting.meta["support"]["reason"] == secret_reason
    assert waiting.meta["support"]["summary"] == secret_summary
    claimed = await agent.request(frames.SupportClaim, conv=c)
    assert claimed.conv.meta["support"]["summary"] == secret_summary
    notes = (await node.node.services.support.ticket(node.app.app, c)).notes_conv
    page = await agent.request(frames.History, conv=notes)
    assert any(m.body.get("summary") == secret_summary for m in page.messages), "an agents-only record"
    assert refused(await customer.request(frames.History, conv=notes))
    for client in (customer, bot, agent):
        await client.close()


async def test_after_transfer_or_release_the_previous_agent_cannot_write(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    c = await support_conv(node, customer)
    ann, bo = await as_role(node, "ann", "agent"), await as_role(node, "bo", "agent")
    await ann.request(frames.SupportClaim, conv=c)
    mine = await ann.request(frames.Send, conv=c, cmid="a1", body={"text": "Ann here"})
    assert isinstance(mine, frames.Ack)
    assert isinstance(await ann.request(frames.SupportTransfer, conv=c, agent="bo"), frames.Ok)

    assert refused(await ann.request(frames.Send, conv=c, cmid="a2", body={"text": "still me"}))
    assert refused(await ann.request(frames.Edit, conv=c, seq=mine.seq, body={"text": "edited"}))
    assert refused(await ann.request(frames.MemberRemove, conv=c, users=["bo"]))
    await ann.send(frames.Typing(conv=c))
    assert (await ann.expect(frames.Error)).code == "forbidden"
    assert isinstance(await bo.request(frames.Send, conv=c, cmid="b1", body={"text": "Bo here"}), frames.Ack)

    assert isinstance(await bo.request(frames.SupportRelease, conv=c), frames.Ok)
    assert refused(await bo.request(frames.Send, conv=c, cmid="b2", body={"text": "one more"}))
    stored = await node.node.store.get_messages(node.app.app, c, 1, 100)
    assert not [m for m in stored if m.kind == "text" and m.body.get("text") in ("still me", "one more")]
    for client in (customer, ann, bo):
        await client.close()


async def test_a_customer_rates_a_ticket_once(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    c = await support_conv(node, customer)
    agent = await as_role(node, "ann", "agent")
    await agent.request(frames.SupportClaim, conv=c)
    await agent.request(frames.SupportResolve, conv=c)
    assert isinstance(await customer.request(frames.SupportRate, conv=c, score=5), frames.Ok)
    for score in (5, 1, 5):
        assert refused(await customer.request(frames.SupportRate, conv=c, score=score), "invalid_request")
    profile = (await agent.request(frames.ProfileGet, user="cust")).profile
    assert (profile.counters["csat_count"], profile.counters["csat_5"]) == (1, 1)
    assert "csat_1" not in profile.counters
    assert (await node.node.services.support.ticket(node.app.app, c)).score == 5
    for client in (customer, agent):
        await client.close()


async def test_the_bot_is_silent_in_every_frame_while_an_agent_owns_the_conversation(
    node: RunningNode,
) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    bot = await as_role(node, "parley-bot", "bot")
    c = await support_conv(node, customer)
    said = await bot.request(frames.Send, conv=c, cmid="b1", body={"text": "Hi"})
    agent = await as_role(node, "ann", "agent")
    await agent.request(frames.SupportClaim, conv=c)

    assert refused(await bot.request(frames.Send, conv=c, cmid="b2", body={"text": "me again"}))
    assert refused(await bot.request(frames.Edit, conv=c, seq=said.seq, body={"text": "changed"}))
    assert refused(await bot.request(frames.Recall, conv=c, seq=said.seq))
    for frame in (
        frames.Draft(conv=c, draft="d1", body={"text": "I think that"}),
        frames.Typing(conv=c),
    ):
        await bot.send(frame)
        assert (await bot.expect(frames.Error)).code == "forbidden", type(frame).__name__
    # An abandoned draft (done) may still be withdrawn, but carries no text to the customer.
    await bot.send(frames.Draft(conv=c, draft="d0", body={"text": "secret half answer"}, done=True))
    await customer.send(frames.Ping(ts=1))
    await customer.expect(frames.Pong)  # everything pushed before it is in the backlog now
    stored = await node.node.store.get_messages(node.app.app, c, 1, 100)
    assert [m.body.get("text") for m in stored if m.kind == "text"] == ["Hi"]
    pushed = [f for f in customer.backlog if isinstance(f, (frames.DraftEvent, frames.TypingEvent))]
    assert all(not f.body for f in pushed if isinstance(f, frames.DraftEvent)), pushed
    assert not [f for f in pushed if isinstance(f, frames.TypingEvent)]
    for client in (customer, bot, agent):
        await client.close()


async def test_meta_support_shown_is_always_the_tickets(node: RunningNode) -> None:
    """Even if a stale ``meta.support`` was stored (a conv_update racing a transition, whose
    read-modify-write of the meta lands after it), members are shown the ticket's state."""
    customer = await RawClient.connect(node.url, await node.token("cust"))
    c = await support_conv(node, customer)
    agent = await as_role(node, "ann", "agent")
    await agent.request(frames.SupportClaim, conv=c)
    store = node.node.store
    stale = {"support": {"state": "bot", "agent": ""}, "topic": "refund"}
    await store.update_conversation(node.app.app, c, meta=stale)  # the racing write, landed last
    shown = (await customer.request(frames.ConvGet, conv=c)).conv.meta
    assert shown == {"support": {"state": "agent", "agent": "ann"}, "topic": "refund"}
    for client in (customer, agent):
        await client.close()
