"""The SDK pages what the server pages: a group's members, the conversation list."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.sdk import Client, ConversationEvent
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first

pytestmark = pytest.mark.timeout(60)


async def _client(node: RunningNode, name: str) -> Client:
    return Client(node.url, token=await node.token(name), min_reconnect_delay=0.02, max_reconnect_delay=0.2)


async def test_members_of_a_large_group_come_in_pages(node: RunningNode) -> None:
    others = ["bob", *[f"u{i:03}" for i in range(448)]]
    async with await _client(node, "alice") as alice, await _client(node, "bob") as bob:
        joined = bob.events(ConversationEvent)
        group = await alice.create_group("big", others)
        assert group.member_count == 450
        event = await first(joined, lambda e: e.event == "joined")
        assert event.conversation.member_count == 450 and event.conversation.members == ()
        members = await bob.members(group.conv)
        assert [m.user for m in members] == sorted(["alice", *others])
        assert {m.role for m in members if m.user == "alice"} == {"owner"}


async def test_conversations_pages_transparently_newest_first(tmp_path: Path) -> None:
    async with (
        running_node(tmp_path, conv_create_quota=1000, join_quota=1000, rate_frames=0) as node,
        await _client(node, "alice") as alice,
        await _client(node, "bob") as bob,
    ):
        convs = [(await alice.create_group(f"g{i}", ["bob"])).conv for i in range(230)]
        await alice.send(convs[7], "the newest")
        listed = await bob.conversations()
        assert sorted(s.conv for s in listed) == sorted(convs)
        assert listed[0].conv == convs[7]


async def test_a_tie_in_the_millisecond_still_lists_the_later_message_first(tmp_path: Path) -> None:
    """Timestamps are whole milliseconds: a group created and then written to within the same
    millisecond ties on ``ts``. The later message must still come first (the SDK breaks the tie
    by message id, a per-node sequence), not whichever random conversation id sorts first — the
    cause of an intermittent failure of the test above. 60 rounds: ties happen in a good share
    of them on a fast loopback."""
    async with (
        running_node(tmp_path, conv_create_quota=1000, join_quota=1000, rate_frames=0) as node,
        await _client(node, "alice") as alice,
        await _client(node, "bob") as bob,
    ):
        for r in range(60):
            convs = [(await alice.create_group(f"g{r}-{i}", ["bob"])).conv for i in range(2)]
            await alice.send(convs[0], "the newest")
            listed = await bob.conversations()
            assert listed[0].conv == convs[0], f"round {r}"
