"""One client connection: identity, conversations it receives, and a bounded outbound queue.

Fan-out never awaits a socket: :meth:`Connection.push` appends the (shared,
pre-encoded) bytes to the queue and wakes the connection's single writer task.
A queue that overflows marks the client a slow consumer; the writer then
closes it with :attr:`CloseCode.SLOW_CONSUMER` and the client resumes later.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from parley.proto.errors import CloseCode
from parley.server.gateway.limits import TokenBucket

__all__ = ["Connection"]

#: Sweeper ticks (about a second each) without a push before an idle writer task ends.
PARK_AFTER_TICKS = 3

SendBytes = Callable[[bytes], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class Connection:
    __slots__ = (
        "_close",
        "_queue",
        "_send",
        "_sending",
        "_wakeup",
        "abort",
        "aborted",
        "app",
        "bucket",
        "close_code",
        "convs",
        "device",
        "id",
        "idle_ticks",
        "last_seen",
        "max_queue",
        "on_overflow",
        "presence_subs",
        "role",
        "user",
        "writer",
    )

    def __init__(
        self,
        conn_id: str,
        send: SendBytes,
        close: Close,
        *,
        max_queue: int,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.id = conn_id
        self.app = ""
        self.user = ""
        self.role = "user"
        self.device = ""
        #: Conversations this connection receives (kept current by control events).
        self.convs: set[str] = set()
        self.presence_subs: set[str] = set()
        self.max_queue = max_queue
        self.last_seen = time.monotonic()
        #: Set once the connection must close; the writer closes with it.
        self.close_code: tuple[int, str] | None = None
        self._send = send
        self._close = close
        self._queue: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        #: The writer task exists only while there is something to write (or recently was):
        #: an idle connection costs no task. See :meth:`park`.
        self.writer: asyncio.Task[None] | None = None
        #: Sweeper ticks since the last push (reset by every push).
        self.idle_ticks = 0
        self._sending = False
        #: Set by the endpoint: ends the connection when the socket cannot even take a close frame.
        self.abort: Callable[[], None] | None = None
        self.aborted = False
        self.on_overflow = on_overflow
        #: Per-connection rate limit, set on authentication.
        self.bucket: TokenBucket | None = None

    @property
    def authenticated(self) -> bool:
        return bool(self.user)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def push(self, data: bytes) -> bool:
        """Queue bytes for the socket without blocking. False if the connection is closing."""
        if self.close_code is not None:
            return False
        if len(self._queue) >= self.max_queue:
            if self.on_overflow is not None:
                self.on_overflow()
            self.close(CloseCode.SLOW_CONSUMER, "slow consumer: outbound queue full")
            return False
        self._queue.append(data)
        self.idle_ticks = 0
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write_loop())
        else:
            self._wakeup.set()
        return True

    def close(self, code: int, reason: str) -> None:
        """Ask the writer to flush what is queued up to now and close."""
        if self.close_code is None:
            self.close_code = (code, reason)
            if code == CloseCode.SLOW_CONSUMER:
                self._queue.clear()  # the client resumes from its position; don't keep its backlog
                if self._sending:
                    # The writer is stuck on a socket the client does not read: a close
                    # frame would wait behind it too, so end the connection outright.
                    self.aborted = True
                    if self.writer is not None:
                        self.writer.cancel()
                    if self.abort is not None:
                        self.abort()
            if self.writer is None:
                self.writer = asyncio.get_running_loop().create_task(self._write_loop())
            self._wakeup.set()

    def park(self) -> None:
        """Let an idle writer task end; the next push starts a new one (the sweeper calls this)."""
        if self.writer is not None and not self._queue and self.close_code is None:
            self._wakeup.set()

    async def _write_loop(self) -> None:
        queue = self._queue
        try:
            while True:
                while queue:
                    self._sending = True
                    await self._send(queue.popleft())
                    self._sending = False
                if self.close_code is not None:
                    await self._close(*self.close_code)
                    return
                if self.idle_ticks >= PARK_AFTER_TICKS:
                    # No await between this check and the return: a push cannot slip in
                    # between, and the next push sees ``writer is None`` and starts one.
                    self.writer = None
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
        except Exception:
            self.close_code = self.close_code or (CloseCode.NORMAL, "socket error")
            queue.clear()
