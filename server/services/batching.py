"""Group commit: concurrent sends share one store round trip.

While one ``append`` is in flight, new messages queue up; when it returns, the
whole queue (up to ``max_batch``) goes in the next call. Under light load a
message is written alone with no added delay; under heavy load the batch
grows and the store stops being the bottleneck.

One bad message fails only itself: messages are validated before they get here
(:func:`parley.proto.content.validate_body`), but if a store still refuses a
batch for anything other than being unavailable, its messages are written again
one by one, so each gets its own result and only the culprit fails (with
``invalid_request``: retrying it would fail again). Other tenants' messages in
the same batch are never answered ``internal`` because of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from parley.proto.errors import ErrorCode
from parley.server.coalesce import Coalescer
from parley.server.errors import ServiceError
from parley.server.models import Appended, NewMessage
from parley.server.ports import StoreUnavailable
from parley.server.store_ports import MessageLog

__all__ = ["AppendBatcher"]

log = logging.getLogger("parley.messages")

#: Called, in seq order, for every batch right after it is stored — before any
#: sender is acked — so fan-out follows store order.
OnStored = Callable[[Sequence[Appended]], None]


class AppendBatcher:
    """Queues messages and appends them in batches (see the module docstring)."""

    def __init__(self, store: MessageLog, on_stored: OnStored, *, max_batch: int = 256) -> None:
        self._store = store
        self._on_stored = on_stored
        self._pending: Coalescer[NewMessage, Appended] = Coalescer(self._write, max_batch=max_batch)
        #: Batches written so far (observability and tests).
        self.batches = 0
        #: Batches a store refused that were split to isolate the bad message(s).
        self.isolated = 0

    async def append(self, message: NewMessage) -> Appended:
        """Store ``message`` (raises what the store raises, e.g. ``StoreUnavailable``)."""
        return await self.submit(message)

    def submit(self, message: NewMessage) -> asyncio.Future[Appended]:
        """Queue ``message``; the future resolves once it is stored (a caller needs no task)."""
        return self._pending.submit(message)

    async def _write(self, batch: Sequence[NewMessage]) -> Sequence[Appended | Exception]:
        try:
            results = await self._store.append(batch)
        except StoreUnavailable:
            raise  # temporary and not any one message's fault: every sender retries
        except Exception:
            if len(batch) == 1:
                raise
            return await self._one_by_one(batch)
        self.batches += 1
        self._on_stored(results)
        return results

    async def _one_by_one(self, batch: Sequence[NewMessage]) -> list[Appended | Exception]:
        """Append each message alone. A message the failed batch did store comes back as a
        duplicate (idempotent on cmid) and is acked; receivers fill that gap from history."""
        self.isolated += 1
        out: list[Appended | Exception] = []
        for i, message in enumerate(batch):
            try:
                stored = await self._store.append([message])
            except StoreUnavailable as exc:
                out.extend([exc] * (len(batch) - i))
                break
            except Exception as exc:
                log.error(
                    "the store refused message %s of %s/%s: %r", message.mid, message.app, message.conv, exc
                )
                out.append(ServiceError(ErrorCode.INVALID_REQUEST, "the store refused this message"))
                continue
            self.batches += 1
            self._on_stored(stored)
            out.append(stored[0])
        return out
