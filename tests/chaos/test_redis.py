"""Redis faults under traffic: a full restart, and one node losing its Redis connections."""

from __future__ import annotations

import asyncio

import pytest
import redis

from parley.sdk import Client, MessageEvent
from parley.server.auth.tokens import issue_token
from tests.chaos.cluster import Cluster
from tests.chaos.traffic import Traffic, check, until

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]


async def test_redis_restart(cluster: Cluster) -> None:
    lb = await cluster.start(3)
    traffic = Traffic(lb.url, cluster.app, users=20)
    try:
        await traffic.setup()
        traffic.start()
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.redis.stop)
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.redis.start)  # same port
        await asyncio.sleep(4)
        await traffic.stop()
        counts = await check("restart redis-server", traffic, cluster.store)
        assert all(n.alive() for n in cluster.nodes), cluster.logs()
        counts.assert_contract()
    finally:
        await traffic.close()


async def test_one_node_loses_its_redis_connections(cluster: Cluster) -> None:
    lb = await cluster.start(3)
    traffic = Traffic(lb.url, cluster.app, users=20)
    try:
        await traffic.setup()
        victim = cluster.nodes[0]
        others = {n.node_id: cluster.redis_clients_of(n) for n in cluster.nodes[1:]}
        traffic.start()
        await asyncio.sleep(2)
        killed = cluster.kill_redis_connections(victim)
        assert killed >= 2, "expected the node's publish and pub/sub connections"
        await asyncio.sleep(1)
        killed_again = cluster.kill_redis_connections(victim)  # and once more while it recovers
        await asyncio.sleep(3)
        await traffic.stop()
        counts = await check("drop one node's redis connections", traffic, cluster.store)
        print(f"[chaos] killed {killed} + {killed_again} redis connections of {victim.node_id}")
        for node_id, addrs in others.items():
            still = cluster.redis_clients_of(cluster.node(node_id))
            assert set(addrs) <= set(still), f"{node_id} lost connections it should have kept"
        counts.assert_contract()
    finally:
        await traffic.close()


async def _wait_subscribed(cluster: Cluster, timeout: float = 15.0) -> None:
    """Until every node has a Redis connection with subscriptions again."""
    async with asyncio.timeout(timeout):
        while True:
            with redis.Redis(port=cluster.redis.port) as r:
                listed = r.client_list()
            subscribed = {c["addr"] for c in listed if int(c.get("sub", 0)) > 0}
            if all(set(cluster.redis_clients_of(n)) & subscribed for n in cluster.nodes):
                return
            await asyncio.sleep(0.1)


async def test_message_lost_in_a_redis_outage_reaches_online_member_without_further_traffic(
    cluster: Cluster,
) -> None:
    await cluster.start(2)
    token = lambda user: issue_token(cluster.app, user)[0]  # noqa: E731
    alice = Client(
        cluster.nodes[0].url, token=token("alice"), min_reconnect_delay=0.05, max_reconnect_delay=0.5
    )
    bob = Client(cluster.nodes[1].url, token=token("bob"), min_reconnect_delay=0.05, max_reconnect_delay=0.5)
    async with alice, bob:
        got: list[str] = []
        bob.on(MessageEvent, lambda e: got.append(e.message.cmid))
        conv = (await alice.create_direct("bob")).conv
        await alice.send(conv, "one", cmid="one")
        await until(lambda: "one" in got)
        await asyncio.to_thread(cluster.redis.stop)
        acked = await alice.send(conv, "two", cmid="two")  # stored and acked; its push is lost
        await asyncio.to_thread(cluster.redis.start)
        await _wait_subscribed(cluster)
        live = await until(lambda: "two" in got, timeout=6, check=False)
        print(f"[chaos] lost push (seq {acked.seq}) reached the online member by itself: {live}")
        await bob.reconnect()  # a resume repairs it: the "later syncs" half of the contract holds
        await until(lambda: "two" in got)
        assert got == ["one", "two"]
        assert live, "the online member did not get an acked message until it reconnected"
