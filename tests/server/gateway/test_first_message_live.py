"""The first message of a conversation a user was just added to reaches their online devices.

The join reaches the user's node as a control event; the node then subscribes to the new
conversation's channel — through Redis, a round trip during which a message published on it
never reaches the node. Found by the campaign benchmark: 43–57 % of online recipients did not
get a first campaign message live (each brand conversation is new). After the subscription is
in place the node tells the device to resync that conversation, so nothing is missed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.sdk import AdminClient, Client, MessageEvent
from tests.harness import running_node
from tests.sdk.helpers import take

pytestmark = pytest.mark.timeout(120)

ROUNDS = 15


async def test_a_message_sent_right_after_the_join_arrives_live(tmp_path: Path, redis_url: str) -> None:
    async with (
        running_node(tmp_path, redis_url=redis_url) as node,
        AdminClient(node.http, node.api_key) as admin,
    ):
        await admin.create_user("ann")
        async with Client(node.url, token=await node.token("ann")) as ann:
            inbox = ann.events(MessageEvent)
            services = node.node.services
            for i in range(ROUNDS):
                # Back to back in the node, as a campaign does: no HTTP round trip between the
                # join and the message to give the subscription time.
                view = await services.conversations.create(
                    node.app.app, f"o{i}", "group", ["ann"], name=f"g{i}"
                )
                await services.messages.send(
                    node.app.app, f"o{i}", view.conversation.conv, kind="text", body={"text": f"first {i}"}
                )
                texts: list[str] = []
                while not texts:  # the conversation's "created" event may come first
                    got = await take(inbox, 1, timeout=10)
                    texts = [e.message.text for e in got if e.message.kind == "text"]
                assert texts == [f"first {i}"], (i, texts)
