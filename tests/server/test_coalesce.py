"""The coalescer batches concurrent calls, keeps their order and never leaves a caller hanging."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from parley.server.coalesce import Coalescer


async def test_calls_of_one_loop_turn_share_a_batch_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    batcher: Coalescer[int, int] = Coalescer(flush, max_batch=3)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(7)))
    assert results == [i * 10 for i in range(7)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]], "in order, at most max_batch each"
    assert await batcher.submit(9) == 90, "a lone call is a batch of one"


async def test_a_failed_batch_fails_its_callers_only() -> None:
    async def flush(items: Sequence[int]) -> list[int]:
        if 0 in items:
            raise ConnectionError("down")
        return list(items)

    batcher: Coalescer[int, int] = Coalescer(flush, max_batch=2)
    first = asyncio.gather(batcher.submit(0), batcher.submit(1), return_exceptions=True)
    assert [type(r) for r in await first] == [ConnectionError, ConnectionError]
    assert await batcher.submit(5) == 5, "the next batch goes out"


async def test_cancelled_flush_fails_waiting_callers() -> None:
    started = asyncio.Event()

    async def flush(items: Sequence[int]) -> list[int]:
        started.set()
        await asyncio.sleep(10)
        return list(items)

    batcher: Coalescer[int, int] = Coalescer(flush, max_batch=1)
    calls = [batcher.submit(i) for i in range(2)]
    await started.wait()
    assert batcher._task is not None
    batcher._task.cancel()
    for call in calls:
        with pytest.raises(ConnectionError):
            await call
