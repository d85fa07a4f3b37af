"""Engagement counting is idempotent and safe across nodes: two nodes (two store instances over one
database) counting the same click at once, many times, count it once and tag the profile once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from parley.server.services.measurement import Measurement
from parley.server.store.sqlite import SQLiteStore


class Tags:
    """Records the tags measurement sets (the audience service is tested end to end elsewhere)."""

    def __init__(self) -> None:
        self.set: list[tuple[str, str, str]] = []

    async def tag(self, app: str, pid: str, name: str, *, evidence: str) -> None:
        self.set.append((pid, name, evidence))

    async def pid_for_user(self, app: str, user: str) -> str:
        return user


class Official:
    async def official_user(self, app: str) -> str:
        return "brand"

    async def customer(self, app: str, conv: str, official: str) -> str:
        return "customer"


async def test_a_repeated_event_on_two_nodes_counts_once(tmp_path: Path) -> None:
    stores = [SQLiteStore(str(tmp_path / "parley.db")) for _ in range(2)]
    for s in stores:
        await s.open()
    try:
        tags = Tags()
        nodes = [Measurement(s, tags, officials=Official(), conversations=Official()) for s in stores]
        attempts = [
            n.record("app", "campaign:c1", "p1", "clicked", arm="a", evidence=f"m{i}", now=1_000 + i)
            for i in range(10)
            for n in nodes
        ]
        won = await asyncio.gather(*attempts)
        assert sum(won) == 1
        assert tags.set[:1] == [("p1", "engaged:c1", tags.set[0][2])] and len(tags.set) == 1
        await nodes[1].record("app", "campaign:c1", "p2", "converted", arm="control", evidence="e1")
        await nodes[0].record("app", "journey:j1/s2", "p1", "clicked", arm="x")
        assert await nodes[0].counts("app", "campaign:c1", "clicked") == {"a": 1}
        assert await nodes[1].counts("app", "campaign:c1", "converted") == {"control": 1}
        assert await nodes[1].counts("app", "journey:j1/s2", "clicked") == {"x": 1}
        assert ("p2", "converted:c1", "converted:e1") in tags.set and (
            "p1",
            "engaged:journey:j1",
            "clicked:",
        ) in tags.set
        with pytest.raises(ValueError):
            await nodes[0].record("app", "campaign:c1", "p1", "viewed", arm="a")
    finally:
        for s in stores:
            await s.close()
