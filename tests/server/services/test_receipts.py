"""ReceiptService: explicit reads (bounded, forward only, announced), senders' own read positions
(written in the background, coalesced per interval), drafts and typing (published, never stored)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from pathlib import Path

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.broker.memory import MemoryBroker
from parley.server.models import Conversation, Member, NewMessage
from parley.server.ports import StoreUnavailable
from parley.server.services.receipts import OWN_READS_INTERVAL, ReceiptService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused


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


# ---------------------------------------------------------------- explicit reads, drafts, typing


async def _group(store: SQLiteStore, messages: int) -> None:
    await store.create_conversation(
        Conversation(app="a", conv="c1", kind="group", epoch="e", created=1),
        [Member("a", "c1", "alice", "owner", 1), Member("a", "c1", "bob", "member", 1)],
    )
    await store.append(
        [
            NewMessage(
                app="a",
                conv="c1",
                mid=f"m{i}",
                sender="bob",
                cmid=f"k{i}",
                kind="text",
                body={"text": str(i)},
                ts=i,
            )
            for i in range(messages)
        ]
    )


async def test_a_read_moves_forward_only_within_the_conversation_and_is_announced(
    store: SQLiteStore, wire: Wire
) -> None:
    await _group(store, 3)
    await wire.watch("c:a:c1")
    receipts = ReceiptService(store, wire.broker)
    with refused(ErrorCode.NOT_FOUND, "no conversation"):
        await receipts.read("a", "alice", "c9", 1)
    with refused(ErrorCode.OUT_OF_RANGE, "beyond the last message (3)"):
        await receipts.read("a", "alice", "c1", 4)
    assert await receipts.read("a", "alice", "c1", 3) == 3
    assert await receipts.read("a", "alice", "c1", 1) == 3, "a read position never moves back"
    assert [(f["t"], f["user"], f["seq"]) for f in await wire.conv("a", "c1")] == [
        ("receipt", "alice", 3),
        ("receipt", "alice", 3),
    ]
    member = await store.get_member("a", "c1", "alice")
    assert member is not None and member.read_seq == 3


async def test_own_reads_keep_the_highest_seq_and_survive_an_unavailable_store(tmp_path: Path) -> None:
    store = FlakyReads(str(tmp_path / "p.db"))
    await store.open()
    try:
        await _group(store, 5)
        receipts = ReceiptService(store, MemoryBroker())
        await receipts.drain()  # nothing pending: returns at once
        receipts.mark_sent("a", "bob", "c1", 3)
        receipts.mark_sent("a", "bob", "c1", 1)  # an older ack arriving late moves nothing back
        await receipts.drain()
        member = await store.get_member("a", "c1", "bob")
        assert member is not None and member.read_seq == 3
        receipts.mark_sent("a", "alice", "c1", 4)
        receipts.mark_sent("a", "alice", "c1", 2)
        store.down = True
        await receipts.drain()  # the write fails (logged); the writer stays usable
        member = await store.get_member("a", "c1", "alice")
        assert member is not None and member.read_seq == 0
        store.down = False
        receipts.mark_sent("a", "alice", "c1", 5)
        await receipts.drain()
        member = await store.get_member("a", "c1", "alice")
        assert member is not None and member.read_seq == 5
    finally:
        await store.close()


async def test_drafts_are_bounded_and_drafts_and_typing_are_only_published(
    store: SQLiteStore, wire: Wire
) -> None:
    await _group(store, 0)
    await wire.watch("c:a:c1")
    receipts = ReceiptService(store, wire.broker, max_draft_bytes=64)
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 64 bytes"):
        receipts.draft("a", "bob", frames.Draft(conv="c1", draft="d1", body={"text": "x" * 100}))
    receipts.draft("a", "bob", frames.Draft(conv="c1", draft="d1", body={"text": "partial"}))
    receipts.typing("a", "alice", "c1", False)
    published = await wire.conv("a", "c1")
    assert [(f["t"], f["user"]) for f in published] == [("draft_event", "bob"), ("typing_event", "alice")]
    assert published[0]["body"] == {"text": "partial"} and published[1]["on"] is False
    conversation = await store.get_conversation("a", "c1")
    assert conversation is not None and conversation.last_seq == 0, "ephemeral: nothing stored"


class FlakyReads(SQLiteStore):
    """The real store, whose ``set_reads`` can be made unavailable."""

    down = False

    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        if self.down:
            raise StoreUnavailable("switched off")
        await super().set_reads(positions)
