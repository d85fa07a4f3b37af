"""Membership used for authorisation is repaired after a broker gap (issue 10, item 9).

Two real nodes on one real Redis. Node two talks to Redis as its own ACL user, so the test
can cut exactly its connections (``CLIENT KILL USER ... TYPE ...``) and keep it from
reconnecting (``ACL SETUSER ... off``) for as long as the scenario needs: a member is removed
while the node cannot hear about it, then the node comes back.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from parley.proto import frames
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


@asynccontextmanager
async def redis_user(redis_url: str) -> AsyncIterator[tuple[aioredis.Redis, str, str]]:
    """A Redis ACL user of its own (admin connection, user name, URL to connect as it)."""
    admin = aioredis.from_url(redis_url)
    name, password = f"node-{secrets.token_hex(4)}", secrets.token_hex(8)
    await admin.execute_command("ACL", "SETUSER", name, "on", f">{password}", "~*", "&*", "+@all")
    host_port = redis_url.split("://", 1)[1]
    try:
        yield admin, name, f"redis://{name}:{password}@{host_port}"
    finally:
        await admin.execute_command("ACL", "DELUSER", name)
        await admin.aclose()


async def cut(admin: aioredis.Redis, user: str, kind: str) -> None:
    """Keep ``user`` from (re)connecting, then drop its ``kind`` (pubsub|normal) connections."""
    await admin.execute_command("ACL", "SETUSER", user, "off")
    await admin.execute_command("CLIENT", "KILL", "USER", user, "TYPE", kind)


async def restore(admin: aioredis.Redis, user: str) -> None:
    await admin.execute_command("ACL", "SETUSER", user, "on")


@asynccontextmanager
async def two_nodes(
    tmp_path: Path, one_url: str, two_url: str
) -> AsyncIterator[tuple[RunningNode, RunningNode]]:
    async with running_node(tmp_path, node_id="n1", redis_url=one_url) as one:  # noqa: SIM117
        async with running_node(tmp_path, node_id="n2", redis_url=two_url, app=(one.app, one.api_key)) as two:
            yield one, two


def send(conv: str, cmid: str) -> dict[str, Any]:
    return {"conv": conv, "cmid": cmid, "body": {"text": cmid}}


async def test_member_removed_during_a_subscription_gap_loses_send_and_history(
    tmp_path: Path, redis_url: str
) -> None:
    async with (
        redis_user(redis_url) as (admin, user, two_url),
        two_nodes(tmp_path, redis_url, two_url) as (
            one,
            two,
        ),
    ):
        alice = await RawClient.connect(one.url, await one.token("alice"))
        bob = await RawClient.connect(two.url, await two.token("bob"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
        await bob.expect(frames.ConvEvent, event="joined", timeout=10)
        assert isinstance(await bob.request(frames.Send, **send(conv, "before")), frames.Ack)

        broker = two.node.services.broker
        reconnects = broker.reconnects
        await cut(admin, user, "pubsub")  # node two's subscription is gone and stays gone
        await asyncio.sleep(0.3)
        assert isinstance(await alice.request(frames.MemberRemove, conv=conv, users=["bob"]), frames.Ok)
        await asyncio.sleep(0.3)  # the control event was published while node two could not hear it
        await restore(admin, user)
        await until(lambda: broker.reconnects > reconnects)

        left = await bob.expect(frames.ConvEvent, event="left", timeout=10)
        assert left.conv.conv == conv, "the repaired membership is announced"
        denied = await bob.request(frames.Send, **send(conv, "after"))
        assert isinstance(denied, frames.Error) and denied.code == "forbidden", denied
        page = await bob.request(frames.History, conv=conv)
        assert isinstance(page, frames.Error) and page.code == "forbidden", page
        stored = await one.node.store.get_messages(one.app.app, conv, 1, 100)
        assert "after" not in [m.cmid for m in stored]
        # Still a working connection, and still receiving what is still theirs.
        direct = (await alice.request(frames.ConvCreate, kind="direct", members=["bob"])).conv.conv
        assert isinstance(await bob.request(frames.Send, **send(direct, "dm")), frames.Ack)
        for client in (alice, bob):
            await client.close()


async def test_member_removed_while_the_publishing_node_lost_redis_is_repaired(
    tmp_path: Path, redis_url: str
) -> None:
    async with (
        redis_user(redis_url) as (admin, user, one_url),
        two_nodes(tmp_path, one_url, redis_url) as (
            one,
            two,
        ),
    ):
        alice = await RawClient.connect(one.url, await one.token("alice"))
        bob = await RawClient.connect(two.url, await two.token("bob"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
        await bob.expect(frames.ConvEvent, event="joined", timeout=10)

        await cut(admin, user, "normal")  # node one's publishes fail and are dropped
        assert isinstance(await alice.request(frames.MemberRemove, conv=conv, users=["bob"]), frames.Ok)
        await asyncio.sleep(0.3)
        await restore(admin, user)
        # The next publish round succeeds and reports the dropped channels.
        await alice.request(frames.Send, **send(conv, "wake"))

        left = await bob.expect(frames.ConvEvent, event="left", timeout=10)
        assert left.conv.conv == conv
        denied = await bob.request(frames.Send, **send(conv, "after"))
        assert isinstance(denied, frames.Error) and denied.code == "forbidden", denied
        for client in (alice, bob):
            await client.close()


async def test_while_the_subscription_is_down_membership_is_checked_against_the_store(
    tmp_path: Path, redis_url: str
) -> None:
    async with (
        redis_user(redis_url) as (admin, user, two_url),
        two_nodes(tmp_path, redis_url, two_url) as (
            one,
            two,
        ),
    ):
        alice = await RawClient.connect(one.url, await one.token("alice"))
        bob = await RawClient.connect(two.url, await two.token("bob"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
        await bob.expect(frames.ConvEvent, event="joined", timeout=10)
        assert isinstance(await bob.request(frames.Send, **send(conv, "before")), frames.Ack)

        await cut(admin, user, "pubsub")
        broker = two.node.services.broker
        await until(lambda: broker.disconnects > 0)
        try:
            # Still down: node two cannot hear the removal, so it must not trust its cache.
            assert isinstance(await alice.request(frames.MemberRemove, conv=conv, users=["bob"]), frames.Ok)
            denied = await bob.request(frames.Send, **send(conv, "during"))
            assert isinstance(denied, frames.Error) and denied.code == "forbidden", denied
            page = await bob.request(frames.History, conv=conv)
            assert isinstance(page, frames.Error) and page.code == "forbidden", page
            # A member in good standing still sends (checked against the store meanwhile).
            direct = (await alice.request(frames.ConvCreate, kind="direct", members=["bob"])).conv.conv
            assert isinstance(await bob.request(frames.Send, **send(direct, "dm")), frames.Ack)
        finally:
            await restore(admin, user)
        await bob.expect(frames.ConvEvent, event="left", timeout=10)
        for client in (alice, bob):
            await client.close()
