"""Redis faults under traffic: a full restart, and one node losing its Redis connections."""

from __future__ import annotations

import asyncio

import pytest

from tests.chaos.cluster import Cluster
from tests.chaos.traffic import Traffic, check

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
