"""Senders' own read positions: written in the background, coalesced per interval."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from pathlib import Path

from parley.server.broker.memory import MemoryBroker
from parley.server.models import Conversation, Member
from parley.server.services.receipts import OWN_READS_INTERVAL, ReceiptService
from parley.server.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    """The real SQLite store, counting its ``set_reads`` transactions."""

    writes = 0

    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        self.writes += 1
        await super().set_reads(positions)


async def test_a_busy_sender_costs_one_write_per_interval_and_drain_writes_the_rest(tmp_path: Path) -> None:
    store = CountingStore(str(tmp_path / "parley.db"))
    await store.open()
    try:
        c = Conversation(app="a", conv="c1", kind="group", epoch="e", created=1, created_by="alice")
        await store.create_conversation(c, [Member(app="a", conv="c1", user="alice", role="owner", joined=1)])
        receipts = ReceiptService(store, MemoryBroker())
        sends = 60
        started = time.monotonic()
        for seq in range(1, sends + 1):
            receipts.mark_sent("a", "alice", "c1", seq)
            await asyncio.sleep(OWN_READS_INTERVAL * 2 / sends)  # one send per loop turn, for ~2 intervals
        # At most one write per interval that really passed (a loaded machine stretches the sleeps).
        intervals = math.ceil((time.monotonic() - started) / OWN_READS_INTERVAL)
        assert store.writes <= intervals + 1 < sends, (
            f"{store.writes} writes for {sends} sends in {intervals} intervals"
        )
        await receipts.drain()
        member = await store.get_member("a", "c1", "alice")
        assert member is not None and member.read_seq == sends, "nothing is lost: drain writes what is left"
        assert store.writes <= 4
    finally:
        await store.close()
