"""The connection's writer: ordered, parks when idle, wakes on the next push."""

from __future__ import annotations

import asyncio

from parley.server.gateway.connection import PARK_AFTER_TICKS, Connection


async def test_idle_writer_task_ends_and_the_next_push_starts_one() -> None:
    sent: list[bytes] = []
    closed: list[int] = []

    async def send(data: bytes) -> None:
        sent.append(data)

    async def close(code: int, reason: str) -> None:
        closed.append(code)

    conn = Connection("k1", send, close, max_queue=10)
    assert conn.writer is None, "no task before there is anything to write"
    conn.push(b"a")
    conn.push(b"b")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sent == [b"a", b"b"] and conn.writer is not None
    conn.idle_ticks = PARK_AFTER_TICKS
    conn.park()
    for _ in range(5):
        await asyncio.sleep(0)
    assert conn.writer is None, "the idle writer ended"
    conn.push(b"c")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert sent == [b"a", b"b", b"c"]
    conn.close(1000, "bye")
    writer = conn.writer
    assert writer is not None
    await writer
    assert closed == [1000]
