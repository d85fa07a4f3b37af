"""Membership events of a large group: bounded bytes per member; members fetched in pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from parley.proto import frames
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient

#: Bytes a membership change may publish per affected member (today: the whole member list each).
PER_MEMBER = 1024


async def _published_bytes(node: RunningNode, redis_url: str, members: int) -> int:
    """Bytes the node publishes to Redis while ``alice`` creates a group of ``members`` others."""
    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.psubscribe("*")
    try:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        users = [f"m{members}-{i:04}" for i in range(members)]
        created = await alice.request(frames.ConvCreate, kind="group", members=users)
        assert isinstance(created, frames.ConvResult)
        await node.node.services.broker.flush()  # everything it published has reached Redis
        await redis.publish("zz-end-marker", b"end")
        total = 0
        async with asyncio.timeout(60):  # only keeps a failure from hanging
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None:
                    continue
                if message["channel"] == b"zz-end-marker":
                    break
                if not message["channel"].startswith(b"x:"):  # the node's own broker probe
                    total += len(message["data"])
        await alice.close()
        return total
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def test_creating_a_large_group_publishes_bounded_bytes_per_member(
    tmp_path: Path, redis_url: str
) -> None:
    async with running_node(tmp_path, redis_url=redis_url) as node:
        small = await _published_bytes(node, redis_url, 99)
        large = await _published_bytes(node, redis_url, 999)
    assert small <= 100 * PER_MEMBER, f"{small} bytes for 100 members"
    assert large <= 1000 * PER_MEMBER, f"{large} bytes for 1000 members (not a member list per member)"


async def test_members_get_a_count_and_fetch_the_list_in_pages(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        others = ["bob", *[f"u{i:03}" for i in range(248)]]
        created = await alice.request(frames.ConvCreate, kind="group", members=others)
        conv = created.conv.conv
        assert created.conv.member_count == 250 and len(created.conv.members) == 250, "the creator's reply"
        joined = await bob.expect(frames.ConvEvent, event="joined")
        assert joined.conv.conv == conv and joined.conv.member_count == 250 and joined.conv.members == []
        seen, after, pages = [], "", 0
        while True:
            page = await bob.request(frames.MemberList, conv=conv, after=after, limit=100)
            assert isinstance(page, frames.MemberPage) and page.conv == conv
            seen += [m.user for m in page.members]
            pages += 1
            if not page.more:
                break
            after = page.members[-1].user
        assert pages == 3 and seen == sorted(["alice", *others])
        await alice.request(frames.ConvUpdate, conv=conv, name="renamed")
        updated = await bob.expect(frames.ConvEvent, event="updated")
        assert (
            updated.conv.name == "renamed" and updated.conv.members == [] and updated.conv.member_count == 250
        )
        stranger = await RawClient.connect(node.url, await node.token("stranger"))
        refused = await stranger.request(frames.MemberList, conv=conv)
        assert isinstance(refused, frames.Error) and refused.code == "forbidden"
        for c in (alice, bob, stranger):
            await c.close()
