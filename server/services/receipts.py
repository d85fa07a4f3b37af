"""Read receipts and typing indicators.

Explicit reads are stored and fanned out at once. A sender has read their own
message: those positions are coalesced per (app, conv, user) and written in
the background at most every ``OWN_READS_INTERVAL`` seconds, so sending never
pays an extra store round trip and busy senders cost one row per interval,
not one write transaction per batch of messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import msgspec

from parley.proto import encode, frames
from parley.proto.errors import ErrorCode
from parley.server.channels import conv_channel
from parley.server.errors import ServiceError
from parley.server.ports import Broker, StoreUnavailable
from parley.server.store_ports import Conversations

__all__ = ["ReceiptService"]

log = logging.getLogger("parley.receipts")

#: Seconds between background writes of senders' own read positions.
OWN_READS_INTERVAL = 0.5


class ReceiptService:
    """Read positions (stored, only forward) and the ephemeral typing and draft events (published,
    never stored). Senders' own read positions are written lazily in the background (see the
    module docstring); one that fails with ``StoreUnavailable`` is logged and dropped, not retried.
    """

    def __init__(self, store: Conversations, broker: Broker, *, max_draft_bytes: int = 16 * 1024) -> None:
        self._store = store
        self._broker = broker
        #: A draft is re-sent whole as it grows, to every member: its size is bounded.
        self._max_draft_bytes = max_draft_bytes
        self._own: dict[tuple[str, str, str], int] = {}
        self._writer: asyncio.Task[None] | None = None
        self._flush_now = asyncio.Event()
        #: Called with ``(app, user, conv, seq)`` after a read position moved (campaign measurement
        #: counts reads of marketing messages). Must only look and schedule, never block.
        self.on_read: list[Callable[[str, str, str, int], None]] = []

    async def read(self, app: str, user: str, conv: str, seq: int) -> int:
        """Move ``user``'s read position in ``conv`` to ``seq``; members see a ``receipt``."""
        conversation = await self._store.get_conversation(app, conv)
        if conversation is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no conversation {conv}")
        if seq > conversation.last_seq:
            raise ServiceError(
                ErrorCode.OUT_OF_RANGE, f"seq {seq} is beyond the last message ({conversation.last_seq})"
            )
        stored = await self._store.set_read(app, conv, user, seq)
        self._broker.publish(
            conv_channel(app, conv), encode(frames.Receipt(conv=conv, user=user, seq=stored))
        )
        for listener in self.on_read:
            listener(app, user, conv, stored)
        return stored

    def mark_sent(self, app: str, user: str, conv: str, seq: int) -> None:
        """Record (lazily) that a sender has read up to their own message."""
        key = (app, conv, user)
        if seq > self._own.get(key, 0):
            self._own[key] = seq
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_own())

    async def _write_own(self) -> None:
        try:
            while self._own:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._flush_now.wait(), OWN_READS_INTERVAL)
                pending, self._own = self._own, {}
                try:
                    await self._store.set_reads([(a, c, u, seq) for (a, c, u), seq in pending.items()])
                except StoreUnavailable:
                    log.warning("read positions of %d senders not stored (store unavailable)", len(pending))
        finally:
            self._writer = None

    async def drain(self) -> None:
        """Write pending positions now and wait for it (shutdown and tests)."""
        if self._writer is not None:
            self._flush_now.set()
            try:
                await asyncio.shield(self._writer)
            finally:
                self._flush_now.clear()

    def draft(self, app: str, user: str, frame: frames.Draft) -> None:
        """Ephemeral: a growing message, fanned out to members, never stored."""
        size = len(msgspec.msgpack.encode(frame.body))
        if size > self._max_draft_bytes:
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED,
                f"a draft body is at most {self._max_draft_bytes} bytes (this one is {size})",
            )
        event = frames.DraftEvent(
            conv=frame.conv, user=user, draft=frame.draft, body=frame.body, done=frame.done
        )
        self._broker.publish(conv_channel(app, frame.conv), encode(event))

    def typing(self, app: str, user: str, conv: str, on: bool) -> None:
        """Ephemeral: fanned out to members, never stored."""
        self._broker.publish(conv_channel(app, conv), encode(frames.TypingEvent(conv=conv, user=user, on=on)))
