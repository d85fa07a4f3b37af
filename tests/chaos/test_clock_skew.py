"""Nodes whose clocks disagree (libfaketime) do not reorder a conversation: seqs come from the store."""

from __future__ import annotations

import asyncio
import shutil
from itertools import pairwise

import pytest

from tests.chaos.cluster import Cluster
from tests.chaos.traffic import Traffic, check

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]

SKEW = {1: "+30s", 2: "-20s"}  # node0 keeps the real clock


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs libfaketime: apt-get install faketime")
async def test_clock_skew_between_nodes_does_not_reorder(cluster: Cluster) -> None:
    lb = await cluster.start(3, faketime=SKEW)
    traffic = Traffic(lb.url, cluster.app, users=20)
    try:
        await traffic.setup()
        spread = traffic.nodes_of()
        assert len(spread) == 3, f"devices did not spread over the nodes: {spread}"
        traffic.start()
        await asyncio.sleep(3)
        # Move everyone once, so each conversation gets senders on differently skewed nodes.
        await asyncio.gather(*(d.client.reconnect() for d in traffic.devices))
        await asyncio.sleep(3)
        await traffic.stop()
        counts = await check("clock skew +30 s / -20 s", traffic, cluster.store)
        inversions = 0
        for conv in traffic.convs:
            info = await cluster.store.get_conversation(cluster.app.app, conv)
            assert info is not None
            stored = await cluster.store.get_messages(cluster.app.app, conv, 1, info.last_seq)
            inversions += sum(1 for a, b in pairwise(stored) if b.ts < a.ts)
        # Timestamps are each node's own clock, so they may go backwards; seqs never do.
        print(f"[chaos] clock skew: {inversions} timestamp inversions across conversations (seq order held)")
        assert inversions > 0, "the skew did not show: were the nodes really under faketime?"
        counts.assert_contract()
    finally:
        await traffic.close()
