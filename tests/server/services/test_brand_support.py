"""A customer's reply in their conversation with the brand continues as support on that conversation:
a ticket (bot first) carrying the campaign it answered, suppression of the next campaign while an
agent has it, ``replied`` counted for the customer only, reopening after resolve; and the journey
hand-over step opening a waiting ticket exactly once per run and step. SQLite and MongoDB."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.proto import frames
from parley.proto.campaign import read_marker
from parley.server.models import StoredMessage, Ticket
from parley.server.services.brand_support import reply_origin
from parley.server.services.official import OfficialAccount
from tests.harness import RunningNode, running_node
from tests.server.console.conftest import PASSWORD, login
from tests.server.services.test_send_policy import PIDS, ask, profile
from tests.wsclient import RawClient

BACKENDS = ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)]


def store_args(backend: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The node settings for ``backend`` (a fresh database per test on the MongoDB wire server)."""
    if backend != "mongo":
        return {}
    return {
        "mongo_url": request.getfixturevalue("mongo_url"),
        "mongo_database": request.getfixturevalue("mongo_db"),
    }


async def next_text(client: RawClient) -> frames.Msg:
    got = await client.expect(frames.Msg, timeout=10)
    while got.m.kind != "text":
        got = await client.expect(frames.Msg, timeout=10)
    return got


async def ticket_of(node: RunningNode, conv: str, state: str = "") -> Ticket:
    """The ticket of ``conv`` once it exists (and is in ``state``, when given)."""
    s = node.node.services
    for _ in range(400):
        await s.brand_support.drain()
        found = await s.support.find_ticket(node.app.app, conv)
        if found is not None and (not state or found.state == state):
            return found
        await asyncio.sleep(0.025)
    raise AssertionError(f"no {state or 'ticket'} on {conv}: {found}")


async def campaign_to(node: RunningNode, client: RawClient, user: str, cid: str) -> frames.Msg:
    """Send campaign ``cid`` to ``user`` and return the message as their client got it."""
    assert (await node.node.services.send_policy.send(ask(node, user, cid, variant="a"))).outcome == "sent"
    got = await next_text(client)
    assert read_marker(got.m.body) is not None
    return got


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_reply_opens_a_ticket_with_the_campaign_and_suppresses_the_next_campaign(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    async with running_node(tmp_path, **store_args(backend, request)) as node:
        app, s = node.app.app, node.node.services
        await profile(node, "ann")
        ann = await RawClient.connect(node.url, await node.token("ann"))
        got = await campaign_to(node, ann, "ann", "c1")
        conv = got.m.conv
        assert await s.support.find_ticket(app, conv) is None, "a campaign alone opens nothing"
        await ann.request(frames.Send, conv=conv, cmid="r1", body={"text": "where is my order?"})

        ticket = await ticket_of(node, conv, "bot")
        assert ticket.customer == "ann"
        assert ticket.origin["kind"] == "campaign" and ticket.origin["campaign"] == "c1"
        assert ticket.origin["message"] == got.m.mid and ticket.origin["variant"] == "a"
        view = await s.conversations.view(app, conv)
        assert view.conversation.meta["support"] == {"state": "bot", "agent": ""}
        roles = {m.user: m.role for m in view.members}
        assert roles == {"ann": "member", "brand": "admin", "parley-bot": "admin"}, "the bot serves it"
        # A second reply continues the same ticket (nothing new opened, the origin kept).
        await ann.request(frames.Send, conv=conv, cmid="r2", body={"text": "order 42"})
        assert (await ticket_of(node, conv)).origin == ticket.origin

        # An agent claims it and sees the campaign; the customer's next campaign is suppressed.
        await s.apps.upsert_user(app, "agent1", role="agent")
        claimed = await s.support.claim(app, "agent1", conv)
        assert claimed.conversation.meta["support"]["origin"]["campaign"] == "c1"
        await s.console.add_user(app, "cat", PASSWORD, ["agent"])
        async with httpx.AsyncClient(base_url=node.http, timeout=20) as tab:  # the console's customer panel
            await login(tab, app, "cat")
            (row,) = (await tab.get("/console/api/customers/ann/tickets")).json()
            assert (row["conv"], row["origin"]["campaign"], row["origin"]["variant"]) == (conv, "c1", "a")
        assert (await s.send_policy.send(ask(node, "ann", "c2"))).outcome == "suppressed_support"
        # The brand conversation is still found on a node that has not cached it (more members now).
        settings = await s.send_policy.settings(app)
        assert await OfficialAccount(s.conversations, s.messages).conversation(app, "ann", settings) == conv

        # The agent's words are neither the customer's reply nor an opt-out.
        await s.messages.send(app, "agent1", conv, kind="text", body={"text": "stop"})
        await s.optout.drain()
        await s.measurement.drain()
        assert s.optout.recorded == 0
        assert await s.measurement.counts(app, "campaign:c1", "replied") == {"a": 1}
        await ann.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_opt_out_opens_no_ticket_and_a_reply_after_resolve_reopens_with_the_new_campaign(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    async with running_node(tmp_path, **store_args(backend, request)) as node:
        app, s = node.app.app, node.node.services
        await profile(node, "ann")
        await profile(node, "bob")
        bob = await RawClient.connect(node.url, await node.token("bob"))
        bob_conv = (await campaign_to(node, bob, "bob", "c1")).m.conv
        await bob.request(frames.Send, conv=bob_conv, cmid="s1", body={"text": "退订"})
        await next_text(bob)  # the confirmation
        await s.brand_support.drain()
        assert await s.support.find_ticket(app, bob_conv) is None, "an opt-out is not a support request"

        ann = await RawClient.connect(node.url, await node.token("ann"))
        conv = (await campaign_to(node, ann, "ann", "c1")).m.conv
        await ann.request(frames.Send, conv=conv, cmid="r1", body={"text": "where is my order?"})
        await ticket_of(node, conv, "bot")
        await s.apps.upsert_user(app, "agent1", role="agent")
        await s.support.claim(app, "agent1", conv)
        await s.support.resolve(app, "agent1", "agent", conv)
        await s.support.rate(app, "ann", conv, 5)
        second = await campaign_to(node, ann, "ann", "c2")  # resolved: no longer suppressed
        await ann.request(frames.Send, conv=conv, cmid="r2", body={"text": "and this offer?"})
        reopened = await ticket_of(node, conv, "bot")
        assert reopened.origin["campaign"] == "c2" and reopened.origin["message"] == second.m.mid
        assert reopened.agent == "" and reopened.score == 0, "a new case: unassigned, unrated"
        assert PIDS[(app, "ann")]
        await ann.close()
        await bob.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_journey_hand_over_opens_a_waiting_ticket_once_per_run_and_step(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    async with running_node(tmp_path, **store_args(backend, request)) as node:
        app, s = node.app.app, node.node.services
        pid = await profile(node, "ann")
        # Retried after a crash (or run twice at once): one ticket, one transition.
        convs = await asyncio.gather(
            *(
                s.brand_support.handover(app, pid, "vip", journey="j1", run="r1", step="agent")
                for _ in range(3)
            )
        )
        assert len(set(convs)) == 1 and convs[0]
        conv = convs[0]
        ticket = await ticket_of(node, conv, "waiting_for_agent")
        assert ticket.origin == {"kind": "journey", "journey": "j1", "run": "r1", "step": "agent"}
        assert ticket.reason == "vip"
        again = await s.brand_support.handover(app, pid, "vip", journey="j1", run="r1", step="agent")
        assert again == conv
        history = await s.history.messages(app, conv, 1, 100)
        states = [
            m.body.get("state") for m in history if m.kind == "system" and m.body.get("event") == "support"
        ]
        assert states == ["waiting_for_agent"]
        await s.apps.upsert_user(app, "agent1", role="agent")
        waiting, _ = await s.support.queue(app, "agent1")
        assert [(c.conv, c.meta["support"]["origin"]["journey"]) for c in waiting] == [(conv, "j1")]
        # The customer is in support now: marketing waits.
        assert (await s.send_policy.send(ask(node, "ann", "c9"))).outcome == "suppressed_support"


def _msg(seq: int, sender: str, body: dict[str, Any]) -> StoredMessage:
    return StoredMessage("app", "c", seq, f"m{seq}", sender, f"k{seq}", "text", body, seq)


def test_the_origin_is_the_latest_marketing_message_of_the_brand_before_the_reply() -> None:
    journey = {"text": "cart", "campaign": {"id": "journey:cart", "variant": "coupon", "topic": "marketing"}}
    campaign = {"text": "boots", "campaign": {"id": "c1", "variant": "b", "topic": "marketing"}}
    reply = _msg(5, "ann", {"text": "where is my order?"})
    earlier = [_msg(1, "brand", campaign), _msg(2, "brand", journey), _msg(3, "ann", {"text": "hm"})]
    assert reply_origin(reply, earlier, "brand") == {
        "kind": "journey", "journey": "cart", "step": "coupon", "message": "m2", "reply": "m5",
    }  # fmt: skip
    assert reply_origin(reply, earlier[:1], "brand")["campaign"] == "c1"
    forged = [_msg(4, "ann", {"text": "x", "campaign": {"id": "c666"}})]
    assert reply_origin(reply, earlier[:1] + forged, "brand")["campaign"] == "c1", "only the brand's count"
    assert reply_origin(reply, [], "brand") == {"kind": "message", "reply": "m5"}
