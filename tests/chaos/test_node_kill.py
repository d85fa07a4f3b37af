"""kill -9 one gateway node under traffic: its clients reconnect through the LB and resume."""

from __future__ import annotations

import asyncio

import pytest

from tests.chaos.cluster import Cluster
from tests.chaos.traffic import Traffic, check

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]


async def test_kill_9_one_node(cluster: Cluster) -> None:
    lb = await cluster.start(3)
    traffic = Traffic(lb.url, cluster.app, users=20)
    try:
        await traffic.setup()
        before = traffic.nodes_of()
        victim = cluster.node(max(before, key=lambda n: before[n]))
        moved = [d for d in traffic.devices if d.node == victim.node_id]
        traffic.start()
        await asyncio.sleep(2)
        victim.kill9()
        await asyncio.sleep(4)
        await traffic.stop()
        counts = await check("kill -9 one node", traffic, cluster.store)
        print(f"[chaos] devices per node before {dict(before)}, after {dict(traffic.nodes_of())}")
        assert moved and all(d.node not in ("", victim.node_id) for d in moved), cluster.logs()
        counts.assert_contract()
    finally:
        await traffic.close()
