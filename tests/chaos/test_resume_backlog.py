"""A client that was away while many of its conversations got busy must still be able to resume."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.sdk import Client, MessageEvent
from tests.chaos.traffic import until
from tests.harness import running_node

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]

GROUPS = 12
PER_GROUP = 190  # under the sync limit (200), but 12 x 190 > the outbound queue (2048 frames)


async def test_resume_with_a_backlog_larger_than_the_outbound_queue(tmp_path: Path) -> None:
    async with running_node(tmp_path, rate_sends=0, rate_frames=0) as node:
        async with Client(node.url, token=await node.token("alice")) as alice:
            convs = [(await alice.create_group(f"g{i}", ["late"])).conv for i in range(GROUPS)]
            async with Client(node.url, token=await node.token("late")) as late:
                saved = late.positions
            for conv in convs:
                for start in range(0, PER_GROUP, 50):
                    await asyncio.gather(
                        *(alice.send(conv, f"{k}") for k in range(start, min(PER_GROUP, start + 50)))
                    )
        got: list[tuple[str, int]] = []
        late = Client(
            node.url, token=await node.token("late"), positions=saved, min_reconnect_delay=0.05,
            max_reconnect_delay=0.5, connect_timeout=10,
        )  # fmt: skip
        late.on(MessageEvent, lambda e: got.append((e.message.conv, e.message.seq)))
        try:
            await late.connect()
            caught_up = await until(lambda: len(got) >= GROUPS * PER_GROUP, timeout=20, check=False)
        finally:
            await late.close()
        print(
            f"[chaos] resume with a {GROUPS * PER_GROUP}-message backlog: got {len(got)}, caught up {caught_up}"
        )
        assert caught_up
