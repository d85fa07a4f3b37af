"""The SDK and marketing messages: a typed CampaignEvent with its buttons, and Client.click — on a
real node, online and offline (the campaign message is synced like any message)."""

from __future__ import annotations

import httpx
import pytest

from parley.proto.templates import Button, Card, Content, Template
from parley.sdk import CampaignEvent, Client, MessageEvent
from tests.harness import RunningNode
from tests.sdk.helpers import take
from tests.server.services.test_send_policy import ask, profile

pytestmark = pytest.mark.timeout(30)

OFFER = Template(
    versions={
        "en": Content(
            text="Hi {{first_name|there}}, 20% off today",
            card=Card(title="Winter sale", image="https://cdn.example/w.png",
                      buttons=[Button("shop", "Shop now", "url", "https://shop.example/sale")]),
            buttons=[Button("more", "Tell me more")],
            quick_replies=[Button("stop", "Stop these", "opt_out")],
        )
    },
    default="en",
)  # fmt: skip


def client(node: RunningNode, token: str) -> Client:
    return Client(node.url, token=token, min_reconnect_delay=0.02, max_reconnect_delay=0.2)


async def test_a_campaign_message_is_a_message_and_a_typed_campaign_event(node: RunningNode) -> None:
    await profile(node, "ann", first_name="Ann")
    async with client(node, await node.token("ann")) as ann:
        messages, campaigns = ann.events(MessageEvent), ann.events(CampaignEvent)
        decision = await node.node.services.send_policy.send(ask(node, "ann", template=OFFER, variant="b"))
        assert decision.outcome == "sent"
        (msg,) = [e for e in await take(messages, 1)]
        (event,) = await take(campaigns, 1)
        assert event.message == msg.message and msg.message.text == "Hi Ann, 20% off today"
        c = event.campaign
        assert (c.id, c.variant, c.topic) == ("c1", "b", "marketing")
        assert [b.id for b in c.buttons] == ["more"] and [q.label for q in c.quick_replies] == ["Stop these"]
        assert c.card is not None and c.card["title"] == "Winter sale"
        tracked = await ann.click(event.message, "shop")  # the server's tracked link (counts, then redirects)
        assert isinstance(tracked, str) and tracked.startswith(f"{node.http}/r/")
        async with httpx.AsyncClient() as http:
            opened = await http.get(tracked, follow_redirects=False)
        assert (opened.status_code, opened.headers["location"]) == (302, "https://shop.example/sale")
        reply = await ann.click(event.message, "more")
        assert not isinstance(reply, str) and reply.text == "Tell me more"
        with pytest.raises(ValueError):
            await ann.click(event.message, "nope")
        with pytest.raises(ValueError):
            await ann.click(reply, "more")


async def test_an_offline_customer_gets_it_at_the_next_sync_and_opts_out_with_one_tap(
    node: RunningNode,
) -> None:
    await profile(node, "bob")
    token = await node.token("bob")
    async with client(node, token) as bob:  # bob was online once: the app saved his positions
        await bob.create_direct("zed")
        saved = bob.positions
    assert (await node.node.services.send_policy.send(ask(node, "bob", template=OFFER))).outcome == "sent"
    async with Client(node.url, token=token, positions=saved) as bob:
        inbox = bob.events(MessageEvent, CampaignEvent)
        plain, event = await take(inbox, 2)
        assert isinstance(plain, MessageEvent) and isinstance(event, CampaignEvent), "synced, then typed"
        assert event.message == plain.message and event.message.sender == "brand"
        await bob.click(event.message, "stop")
        await bob.click(event.message, "stop")  # a second tap sends nothing new
        own, confirmation = await take(inbox, 2)  # the tap (one, as stored) and the brand's answer
        assert isinstance(own, MessageEvent) and own.message.sender == "bob"
        assert isinstance(confirmation, MessageEvent) and confirmation.message.sender == "brand"
        assert "opt_out" in confirmation.message.body
    await node.node.services.optout.drain()
    assert node.node.services.optout.recorded == 1
    again = await node.node.services.send_policy.send(ask(node, "bob", "c2", template=OFFER))
    assert again.outcome == "no_consent", "the opt-out took effect before the next send"
