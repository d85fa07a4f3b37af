"""Blocking through the SDK against a real node: no direct messages, adds or presence either way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from parley.sdk import BlockedUser, Client, MessageEvent, PresenceEvent, ReplyError
from tests.harness import RunningNode
from tests.sdk.helpers import first, quiet

pytestmark = pytest.mark.timeout(30)


@asynccontextmanager
async def user(node: RunningNode, name: str) -> AsyncIterator[Client]:
    client = Client(node.url, token=await node.token(name), min_reconnect_delay=0.02, max_reconnect_delay=0.2)
    async with client:
        yield client


async def refused(call: asyncio.Future[object] | object, code: str = "blocked") -> ReplyError:
    with pytest.raises(ReplyError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code == code, caught.value
    return caught.value


async def test_block_stops_direct_messages_both_ways_until_unblocked(node: RunningNode) -> None:
    async with user(node, "ann") as ann, user(node, "bob") as bob:
        conv = (await ann.create_direct("bob")).conv
        await bob.send(conv, "before")  # cached membership: the fast path must be checked too
        await ann.block("bob")
        assert [b.user for b in await ann.blocked_users()] == ["bob"]
        assert isinstance((await ann.blocked_users())[0], BlockedUser)
        assert await bob.blocked_users() == [], "only the blocker lists the block"
        await refused(bob.send(conv, "hello?"))
        await refused(ann.send(conv, "and you?"))
        await refused(bob.create_direct("ann"))
        await ann.unblock("bob")
        assert await ann.blocked_users() == []
        inbox = ann.events(MessageEvent)
        await bob.send(conv, "after")
        got = await first(inbox, lambda e: e.message.text == "after")
        assert got.message.sender == "bob"


async def test_the_blocked_cannot_add_the_blocker_to_groups(node: RunningNode) -> None:
    async with user(node, "ann") as ann, user(node, "bob") as bob:
        await ann.block("bob")
        await refused(bob.create_group("g", ["ann", "cy"]))
        group = await bob.create_group("g", ["cy"])
        await refused(bob.add_members(group.conv, ["ann"]))
        assert [m.user for m in (await bob.conversation(group.conv)).members] == ["bob", "cy"]
        # The blocker may still add the blocked (it is the blocker's choice).
        own = await ann.create_group("mine", ["bob"])
        assert {m.user for m in own.members} == {"ann", "bob"}


async def test_blocking_hides_presence_both_ways(node: RunningNode) -> None:
    async with user(node, "ann") as ann, user(node, "bob") as bob, user(node, "cy") as cy:
        await ann.create_group("all three", ["bob", "cy"])  # the presence policy: shared conversation
        bob_sees = bob.events(PresenceEvent)
        cy_sees = cy.events(PresenceEvent)
        await ann.create_group("g", ["bob", "cy"])  # presence is for users sharing a conversation
        await bob.subscribe_presence(["ann"])
        await cy.subscribe_presence(["ann"])
        assert (await first(bob_sees, lambda e: e.user == "ann")).online
        assert (await first(cy_sees, lambda e: e.user == "ann")).online
        await ann.block("bob")
        await ann.close()  # ann goes offline: cy hears it, bob (blocked, already subscribed) does not
        assert not (await first(cy_sees, lambda e: e.user == "ann")).online
        await bob.conversations()  # a round trip: anything pushed before it has arrived
        assert quiet(bob_sees) == []
        # A new subscription of either side shows the other as never seen.
        async with user(node, "ann") as ann2:
            ann_sees = ann2.events(PresenceEvent)
            await ann2.subscribe_presence(["bob"])
            state = await first(ann_sees, lambda e: e.user == "bob")
            assert (state.online, state.last_seen) == (False, 0)
            await bob.subscribe_presence(["ann"])
            state = await first(bob_sees, lambda e: e.user == "ann")
            assert (state.online, state.last_seen) == (False, 0)
