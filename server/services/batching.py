"""Group commit: concurrent sends share one store round trip.

While one ``append`` is in flight, new messages queue up; when it returns, the
whole queue (up to ``max_batch``) goes in the next call. Under light load a
message is written alone with no added delay; under heavy load the batch
grows and the store stops being the bottleneck.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from parley.server.coalesce import Coalescer
from parley.server.models import Appended, NewMessage
from parley.server.ports import Store

__all__ = ["AppendBatcher"]

#: Called, in seq order, for every batch right after it is stored — before any
#: sender is acked — so fan-out follows store order.
OnStored = Callable[[Sequence[Appended]], None]


class AppendBatcher:
    def __init__(self, store: Store, on_stored: OnStored, *, max_batch: int = 256) -> None:
        self._store = store
        self._on_stored = on_stored
        self._pending: Coalescer[NewMessage, Appended] = Coalescer(self._write, max_batch=max_batch)
        #: Batches written so far (observability and tests).
        self.batches = 0

    async def append(self, message: NewMessage) -> Appended:
        """Store ``message`` (raises what the store raises, e.g. ``StoreUnavailable``)."""
        return await self.submit(message)

    def submit(self, message: NewMessage) -> asyncio.Future[Appended]:
        """Queue ``message``; the future resolves once it is stored (a caller needs no task)."""
        return self._pending.submit(message)

    async def _write(self, batch: Sequence[NewMessage]) -> Sequence[Appended]:
        results = await self._store.append(batch)
        self.batches += 1
        self._on_stored(results)
        return results
