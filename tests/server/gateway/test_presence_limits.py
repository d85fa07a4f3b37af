"""presence_sub: bounded per connection and per user, batched, and only for users one may watch."""

from __future__ import annotations

from pathlib import Path

import httpx
from redis.asyncio import Redis

from parley.proto import frames
from tests.harness import running_node
from tests.wsclient import RawClient


async def test_subscriptions_are_capped_per_connection_and_per_user(tmp_path: Path) -> None:
    limits = {"presence_subs_per_connection": 3, "presence_subs_per_user": 5, "presence_policy": "all"}
    async with running_node(tmp_path, **limits) as node:
        phone = await RawClient.connect(node.url, await node.token("alice"), device="phone")
        laptop = await RawClient.connect(node.url, await node.token("alice"), device="laptop")
        assert isinstance(await phone.request(frames.PresenceSub, users=["a", "b", "c"]), frames.Ok)
        over = await phone.request(frames.PresenceSub, users=["d"])
        assert isinstance(over, frames.Error) and over.code == "limit_exceeded" and "3" in over.message
        assert isinstance(await phone.request(frames.PresenceSub, users=["a", "b"]), frames.Ok), (
            "already watched"
        )
        assert isinstance(await laptop.request(frames.PresenceSub, users=["d", "e"]), frames.Ok)
        over_user = await laptop.request(frames.PresenceSub, users=["f"])
        assert isinstance(over_user, frames.Error) and over_user.code == "limit_exceeded"
        assert "5" in over_user.message
        await phone.request(frames.PresenceUnsub, users=["a"])
        assert isinstance(await laptop.request(frames.PresenceSub, users=["f"]), frames.Ok), "room again"
        await phone.close()
        await laptop.close()


async def test_by_default_only_users_sharing_a_conversation_may_be_watched(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        customer = await RawClient.connect(node.url, await node.token("customer"))
        refused = await customer.request(frames.PresenceSub, users=["agent"])
        assert isinstance(refused, frames.Error) and refused.code == "forbidden"
        assert not [f for f in customer.backlog if isinstance(f, frames.Presence)], "nothing leaked"
        await customer.request(frames.ConvCreate, kind="group", members=["friend"])
        assert isinstance(await customer.request(frames.PresenceSub, users=["friend", "customer"]), frames.Ok)
        assert not (await customer.expect(frames.Presence, user="friend")).online
        await customer.close()
    async with running_node(tmp_path, presence_policy="all") as node:
        customer = await RawClient.connect(node.url, await node.token("customer"))
        assert isinstance(await customer.request(frames.PresenceSub, users=["agent"]), frames.Ok)
        await customer.close()


async def test_the_current_states_are_looked_up_in_one_store_round_trip(tmp_path: Path) -> None:
    async with running_node(tmp_path, presence_policy="all") as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))

        async def user_lookups() -> float:
            async with httpx.AsyncClient(base_url=node.http) as http:
                text = (await http.get("/metrics")).text
            counts = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("parley_store_seconds_count{")
                and ("get_user" in line or "last_seen_of" in line)
            ]
            return sum(counts)

        before = await user_lookups()
        assert isinstance(
            await alice.request(frames.PresenceSub, users=[f"u{i}" for i in range(200)]), frames.Ok
        )
        assert await user_lookups() - before <= 1
        await alice.close()


async def test_redis_channels_stay_bounded_by_the_caps(tmp_path: Path, redis_url: str) -> None:
    limits = {"presence_subs_per_connection": 10, "presence_policy": "all", "redis_url": redis_url}
    async with running_node(tmp_path, **limits) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        for batch in range(20):
            await alice.request(frames.PresenceSub, users=[f"u{batch}-{i}" for i in range(10)])
        redis = Redis.from_url(redis_url)
        try:
            presence_channels = [c for c in await redis.pubsub_channels() if c.startswith(b"p:")]
        finally:
            await redis.aclose()
        assert len(presence_channels) <= 10
        await alice.close()
