"""The official account: one conversation per customer with the brand, and opting out in the chat
(a tap on the opt-out quick reply, or a free-text "stop" / "退订") recorded and confirmed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.proto import frames
from parley.proto.campaign import read_marker, tap_body
from parley.server.services.official import is_opt_out
from tests.harness import RunningNode, running_node
from tests.server.services.test_send_policy import ask, profile
from tests.wsclient import RawClient


@pytest.mark.parametrize(
    "text",
    ["stop", "STOP!", " Unsubscribe. ", "退订", "退订。", "不要再发了", "不要再发了！！", "ＳＴＯＰ", "TD"],
)
def test_free_text_opt_outs_are_recognised(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text", ["stop the order please", "how do I unsubscribe from the newsletter?", "", "好的", "go"]
)
def test_other_replies_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


async def next_text(client: RawClient) -> frames.Msg:
    got = await client.expect(frames.Msg, timeout=10)
    while got.m.kind != "text":
        got = await client.expect(frames.Msg, timeout=10)
    return got


async def consent(node: RunningNode, user: str) -> str:
    """The current consent state of ``user``'s profile for ``marketing``, and its ledger's evidence."""
    store, app = node.node.store, node.app.app
    pid = await store.resolve_identifier(app, "user", user)
    found = await store.get_audience_profile(app, pid) if pid else None
    state = found.consent.get("marketing") if found else None
    return state.state if state else ""


async def test_the_official_conversation_is_created_once_per_customer(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        s, app = node.node.services, node.app.app
        settings = await s.send_policy.set_settings(app, {"official_user": "acme", "official_name": "ACME"})
        convs = await asyncio.gather(*(s.official.conversation(app, "ann", settings) for _ in range(5)))
        assert len(set(convs)) == 1
        view = await s.conversations.view(app, convs[0])
        assert view.conversation.name == "ACME" and view.conversation.meta == {"official": True}
        assert {m.user for m in view.members} == {"acme", "ann"}
        # A customer who wrote to the brand first: that direct conversation becomes the official one.
        mine = await s.conversations.create(app, "bob", "direct", ["acme"])
        assert await s.official.conversation(app, "bob", settings) == mine.conversation.conv
        assert (await s.conversations.view(app, mine.conversation.conv)).conversation.meta == {
            "official": True
        }


async def test_a_free_text_stop_withdraws_consent_is_confirmed_and_stops_the_next_campaign(
    tmp_path: Path,
) -> None:
    async with running_node(tmp_path) as node:
        s = node.node.services
        await profile(node, "ann")
        ann = await RawClient.connect(node.url, await node.token("ann"))
        assert (await s.send_policy.send(ask(node, "ann"))).outcome == "sent"
        conv = (await next_text(ann)).m.conv
        await ann.request(frames.Send, conv=conv, cmid="r1", body={"text": "stop the order please"})
        await ann.request(frames.Send, conv=conv, cmid="r2", body={"text": "退订"})
        confirmation = await next_text(ann)
        assert confirmation.m.sender == "brand" and confirmation.m.body["opt_out"]["topic"] == "marketing"
        await s.optout.drain()
        assert s.optout.recorded == 1, "only the opt-out, not the support question"
        assert await consent(node, "ann") == "withdrawn"
        assert (await s.send_policy.send(ask(node, "ann", "c2"))).outcome == "no_consent"
        await ann.close()


async def test_one_tap_on_the_opt_out_quick_reply_withdraws_the_campaigns_topic(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        s = node.node.services
        await profile(node, "ann")
        ann = await RawClient.connect(node.url, await node.token("ann"))
        await s.send_policy.send(ask(node, "ann"))
        got = await next_text(ann)
        marker = read_marker(got.m.body)
        assert marker is not None
        stop = marker.button("stop")
        assert stop is not None and stop.action == "opt_out"
        await ann.request(frames.Send, conv=got.m.conv, cmid="t1", body=tap_body(marker, stop))
        assert (await next_text(ann)).m.body["opt_out"]["topic"] == "marketing"
        assert await consent(node, "ann") == "withdrawn"
        await ann.close()


async def test_stop_outside_an_official_conversation_changes_nothing(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        s = node.node.services
        await profile(node, "ann")
        ann = await RawClient.connect(node.url, await node.token("ann"))
        view = await s.conversations.create(node.app.app, "ann", "direct", ["bob"])
        await ann.request(frames.Send, conv=view.conversation.conv, cmid="s1", body={"text": "stop"})
        group = await s.conversations.create(node.app.app, "ann", "group", ["brand", "bob"])
        await ann.request(frames.Send, conv=group.conversation.conv, cmid="s2", body={"text": "stop"})
        await s.optout.drain()
        assert s.optout.recorded == 0 and await consent(node, "ann") == "granted"
        await ann.close()
