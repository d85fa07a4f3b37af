"""Coalesce concurrent single-item calls into one batched call (one Redis round trip).

Callers ``await submit(item)`` as if it were a call of its own (or keep the
returned future and add a callback: no task needed). Items that
arrive in the same event-loop turn, or while a batch is in flight, go out
together in the next batch, so a connection storm costs one script call per
round instead of one per connection, and a lone call still costs one round trip.

The flush returns one result per item, in order; a result that is an
``Exception`` fails only its own caller (a batch can isolate a bad item), and a
flush that raises fails every caller of the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Coalescer"]

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Batches concurrent :meth:`submit` calls into calls of ``flush`` of at most ``max_batch`` items.

    One flush runs at a time; items submitted meanwhile wait for the next one.
    """

    def __init__(
        self, flush: Callable[[Sequence[T]], Awaitable[Sequence[R | Exception]]], *, max_batch: int
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue ``item``; the future resolves with its result (or the batch's error)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, waiter))
        if self._task is None:
            self._task = loop.create_task(self._run())
        return waiter

    async def _run(self) -> None:
        try:
            await asyncio.sleep(0)  # let the callers of this loop turn join the batch
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    results = await self._flush([item for item, _ in batch])
                except BaseException as exc:
                    # A cancelled flush must not look like a cancellation of each caller.
                    error = exc if isinstance(exc, Exception) else ConnectionError("batch cancelled")
                    for _, waiter in batch:
                        if not waiter.done():
                            waiter.set_exception(error)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for (_, waiter), result in zip(batch, results, strict=True):
                        if waiter.done():
                            continue
                        if isinstance(result, Exception):
                            waiter.set_exception(result)
                        else:
                            waiter.set_result(result)
        finally:
            self._task = None
            for _, waiter in self._pending:  # cancelled with items left: never leave a caller hanging
                if not waiter.done():
                    waiter.set_exception(ConnectionError("batch cancelled"))
            self._pending.clear()
