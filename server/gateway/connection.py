"""One client connection: identity, conversations it receives, and bounded outbound buffering.

Fan-out never awaits a socket. :meth:`Connection.push` hands the (shared,
pre-encoded) bytes straight to the socket's transport while the transport
accepts writes; once the transport's own buffer is past its high-water mark
(the client reads slower than we write) frames wait in a queue, bounded both
in frames and in bytes, that :meth:`Connection.resume` flushes when the
transport drains. A queue that overflows either bound marks the client a slow
consumer: it is cut off, and resumes later from its position. Queued frames are
the shared fan-out bytes, never copies; an :class:`OutboundLedger` accounts what
all queues of a node hold.

There is no task per connection: writes are synchronous calls on a
:class:`Link` (the WebSocket transport, :mod:`parley.server.gateway.transport`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from parley.proto.errors import CloseCode
from parley.server.gateway.limits import TokenBucket
from parley.server.gateway.outbound import OutboundLedger

__all__ = ["Connection", "Link"]

#: Seconds a slow consumer's socket may take to finish the closing handshake before it is dropped.
SLOW_CONSUMER_LINGER = 1.0


class Link(Protocol):
    """What a connection needs from its socket: synchronous, never blocking."""

    def write(self, data: bytes, framed: bytes | None = None) -> None:
        """Send one binary message; ``framed`` is the same message already framed, if known."""

    def close(self, code: int, reason: str, linger: float = ...) -> None:
        """Start the closing handshake with ``code`` after everything written so far; drop the
        socket if the handshake has not completed within ``linger`` seconds."""

    def abort(self) -> None:
        """Drop the socket now, with whatever is still buffered."""


class Connection:
    """One authenticated (or authenticating) client socket as the hub and router see it.

    Guarantees: :meth:`push` never blocks and never copies ``data``; the queue never holds
    more than ``max_queue`` frames or ``max_queue_bytes`` bytes — the frame that would pass
    either bound closes the connection with 4008 instead.
    """

    __slots__ = (
        "_closed",
        "_ledger",
        "_link",
        "_queue",
        "_queued_bytes",
        "app",
        "bucket",
        "cleared",
        "close_code",
        "convs",
        "convs_trusted",
        "device",
        "iat",
        "id",
        "last_seen",
        "lost",
        "max_queue",
        "max_queue_bytes",
        "on_overflow",
        "presence_subs",
        "role",
        "user",
        "writable",
    )

    def __init__(
        self,
        conn_id: str,
        link: Link,
        *,
        max_queue: int,
        max_queue_bytes: int = 0,
        ledger: OutboundLedger | None = None,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.id = conn_id
        self.app = ""
        self.user = ""
        self.role = "user"
        self.device = ""
        #: Conversations this connection receives (kept current by control events).
        self.convs: set[str] = set()
        #: False from a broker gap until :mod:`~parley.server.gateway.membership` has re-read
        #: ``convs`` from the store: meanwhile every membership check asks the store.
        self.convs_trusted = True
        self.presence_subs: set[str] = set()
        #: Conversations of ``convs`` found free of blocks and mutes; sends into them skip the
        #: check (cleared by ``recheck`` control events, see ``parley.server.services.safety``).
        self.cleared: set[str] = set()
        #: When the token this connection authenticated with was issued (s; 0 if unknown).
        self.iat = 0
        self.max_queue = max_queue
        #: Bytes the queue may hold (0: no byte bound beyond ``max_queue`` frames).
        self.max_queue_bytes = max_queue_bytes
        self.last_seen = time.monotonic()
        #: Set once the connection must close.
        self.close_code: tuple[int, str] | None = None
        #: False while the transport's buffer is past its high-water mark.
        self.writable = True
        #: True once the socket is gone.
        self.lost = False
        self.on_overflow = on_overflow
        #: Per-connection rate limit, set on authentication.
        self.bucket: TokenBucket | None = None
        self._link = link
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._ledger = ledger if ledger is not None else OutboundLedger()
        self._closed: asyncio.Future[None] | None = None

    @property
    def authenticated(self) -> bool:
        """True once hello authenticated a user here (``user`` set); False again if registering it then
        failed."""
        return bool(self.user)

    @property
    def queued(self) -> int:
        """Frames waiting for the transport to drain."""
        return len(self._queue)

    @property
    def queued_bytes(self) -> int:
        """Bytes of the frames waiting for the transport to drain."""
        return self._queued_bytes

    def push(self, data: bytes, framed: bytes | None = None) -> bool:
        """Send bytes without blocking (``framed``: the same, WebSocket-framed). False if closing."""
        if self.close_code is not None:
            return False
        if self.writable and not self._queue:
            self._link.write(data, framed)
            return True
        queued_bytes = self._queued_bytes + len(data)
        if len(self._queue) >= self.max_queue or (
            self.max_queue_bytes and queued_bytes > self.max_queue_bytes
        ):
            if self.on_overflow is not None:
                self.on_overflow()
            self.close(CloseCode.SLOW_CONSUMER, "slow consumer: outbound queue full")
            return False
        self._queue.append(data)
        self._queued_bytes = queued_bytes
        self._ledger.add(data)
        return True

    def pause(self) -> None:
        """The transport's buffer is full: queue from now on."""
        self.writable = False

    def resume(self) -> None:
        """The transport drained: flush the queue (and close, if a close is waiting on it)."""
        self.writable = True
        queue, ledger = self._queue, self._ledger
        while queue and self.writable:
            data = queue.popleft()
            self._queued_bytes -= len(data)
            ledger.remove(data)
            self._link.write(data)
        if not queue and self.close_code is not None and not self.lost:
            self._link.close(*self.close_code)

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued up to now; a slow consumer is dropped at once."""
        if self.close_code is not None or self.lost:
            return
        self.close_code = (code, reason)
        if code == CloseCode.SLOW_CONSUMER:
            # The client resumes from its own position, so its backlog is not worth keeping.
            # The close frame goes behind what the socket already holds: a client that reads
            # again soon learns why (4008); one that does not is dropped after a short linger.
            self._drop_queue()
            self._link.close(code, reason, SLOW_CONSUMER_LINGER)
        elif not self._queue:
            self._link.close(code, reason)
        # else: resume() closes once the queue is flushed (drain() aborts it after a grace).

    def abort(self) -> None:
        """Drop the socket now (a close that could not complete in time)."""
        if not self.lost:
            self._drop_queue()
            self._link.abort()

    def connection_lost(self) -> None:
        """The transport calls this once the socket is gone."""
        self.lost = True
        self._drop_queue()
        if self.close_code is None:
            self.close_code = (CloseCode.NORMAL, "closed by the peer")
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def _drop_queue(self) -> None:
        ledger = self._ledger
        for data in self._queue:
            ledger.remove(data)
        self._queue.clear()
        self._queued_bytes = 0

    async def wait_lost(self) -> None:
        """Wait until the socket is gone."""
        if self.lost:
            return
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._closed)
