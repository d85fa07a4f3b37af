"""The subscription side of :class:`~parley.server.broker.redis.RedisBroker`.

Every subscribed channel shares ONE pub/sub connection, read by ONE task that
calls the handler synchronously with the raw payload: no task per message and
no decoding (channel names are looked up, not decoded). A second task PINGs the
connection, since a silently dead peer would otherwise block the reader
forever. After any loss the reader reconnects with a jittered backoff and
re-subscribes every channel by itself, then reports the reconnection (messages
may have been missed meanwhile) to the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Collection, Sequence

import hiredis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection

from parley.proto.backoff import Backoff
from parley.server.broker.redis_presence import ERRORS, chunks
from parley.server.ports import MessageHandler

__all__ = ["PubSub"]

log = logging.getLogger("parley.server.broker.redis")


class _SubConn:
    """One pub/sub connection and the (un)subscribe confirmations it still owes.

    Redis answers ``SUBSCRIBE a b c`` with one reply per channel, in command
    order, so a FIFO of counters tells which command a reply completes.
    """

    def __init__(self, conn: AbstractConnection) -> None:
        self.conn = conn
        self.pending: deque[tuple[list[int], asyncio.Future[None] | None]] = deque()
        self.pong: asyncio.Future[None] | None = None
        self.alive = True

    def expect(self, replies: int, done: asyncio.Future[None] | None) -> None:
        if self.alive:
            self.pending.append(([replies], done))
        elif done is not None and not done.done():
            done.set_result(None)

    def confirm(self) -> None:
        if not self.pending:
            return
        left, done = self.pending[0]
        left[0] -= 1
        if left[0] <= 0:
            self.pending.popleft()
            if done is not None and not done.done():
                done.set_result(None)

    def release(self) -> None:
        """The connection is gone: wake everyone waiting on it."""
        self.alive = False
        for _, done in self.pending:
            if done is not None and not done.done():
                done.set_result(None)
        self.pending.clear()
        if self.pong is not None and not self.pong.done():
            self.pong.set_result(None)  # the reader is reconnecting anyway


class PubSub:
    """One pub/sub connection, its reader and keepalive tasks, and the subscription set.

    * :meth:`subscribe` returns once Redis has confirmed every channel — or at
      once if the pub/sub connection is down, or after ``timeout``; in every
      case the channels stay in the subscription set, which the reader
      re-subscribes by itself after each reconnect.
    * :meth:`unsubscribe` stops delivery immediately (messages already in flight
      for those channels are filtered out) and does not wait for Redis.

    Counters: :attr:`received` (messages handed to the handler), :attr:`reconnects`
    (pub/sub reconnections), :attr:`disconnects` (pub/sub connections lost).
    """

    def __init__(
        self,
        pool: BlockingConnectionPool,
        *,
        prefix: str,
        timeout: float,
        keepalive: float,
        backoff: Backoff,
    ) -> None:
        self._pool = pool
        self._prefix = prefix
        self._timeout = timeout
        self._keepalive = keepalive
        self._backoff = backoff
        self._handler: MessageHandler | None = None
        self._on_reconnect: Callable[[], None] = _nothing
        self._on_down: Callable[[], None] = _nothing
        # prefixed channel name (as Redis sends it) -> our name
        self._names: dict[bytes, str] = {}
        self._inflight: dict[bytes, asyncio.Future[None]] = {}
        self._sub: _SubConn | None = None
        self._sub_lock = asyncio.Lock()  # orders writes on the pub/sub connection
        #: Set while a pub/sub connection is up with every channel re-subscribed.
        self.connected = asyncio.Event()
        self.received = 0
        self.reconnects = 0
        #: Pub/sub connections found dead (an error or a missed keepalive).
        self.disconnects = 0

    def start(
        self, handler: MessageHandler, *, on_reconnect: Callable[[], None], on_down: Callable[[], None]
    ) -> list[asyncio.Task[None]]:
        """Start the reader and the keepalive; the caller owns (and cancels) the returned tasks.

        ``handler`` gets every message of a subscribed channel; ``on_reconnect`` is called
        after the connection came back (messages may have been lost), ``on_down`` each time
        it was lost. Neither callback may raise.
        """
        self._handler = handler
        self._on_reconnect = on_reconnect
        self._on_down = on_down
        return [
            asyncio.create_task(self._read_loop(), name="parley-broker-read"),
            asyncio.create_task(self._keepalive_loop(), name="parley-broker-keepalive"),
        ]

    async def subscribe(self, channels: Collection[str]) -> None:
        """Subscribe (idempotent) with one SUBSCRIBE per call; see the class doc for when it returns."""
        loop = asyncio.get_running_loop()
        new: list[bytes] = []
        waits: set[asyncio.Future[None]] = set()
        for channel in channels:
            name = (self._prefix + channel).encode()
            if name in self._names:
                if name in self._inflight:
                    waits.add(self._inflight[name])
            else:
                self._names[name] = channel
                new.append(name)
        if new:
            async with self._sub_lock:
                sub = self._sub
                if sub is not None and sub.alive:
                    commands = []
                    for chunk in chunks(new):
                        done: asyncio.Future[None] = loop.create_future()
                        sub.expect(len(chunk), done)
                        self._track(chunk, done)
                        waits.add(done)
                        commands.append(("SUBSCRIBE", *chunk))
                    # On failure the reader notices too, reconnects and re-subscribes.
                    with contextlib.suppress(*ERRORS):
                        await sub.conn.send_packed_command(sub.conn.pack_commands(commands), False)
        if waits:
            await asyncio.wait(waits, timeout=self._timeout)

    def _track(self, names: Sequence[bytes], done: asyncio.Future[None]) -> None:
        for name in names:
            self._inflight[name] = done

        def untrack(_: asyncio.Future[None]) -> None:
            for name in names:
                if self._inflight.get(name) is done:
                    del self._inflight[name]

        done.add_done_callback(untrack)

    async def unsubscribe(self, channels: Collection[str]) -> None:
        """Stop delivery for ``channels`` at once; UNSUBSCRIBE is sent without waiting for its answer."""
        gone: list[bytes] = []
        for channel in channels:
            name = (self._prefix + channel).encode()
            if self._names.pop(name, None) is not None:
                gone.append(name)
        if not gone:
            return
        async with self._sub_lock:
            sub = self._sub
            if sub is not None and sub.alive:
                commands = []
                for chunk in chunks(gone):
                    sub.expect(len(chunk), None)
                    commands.append(("UNSUBSCRIBE", *chunk))
                with contextlib.suppress(*ERRORS):
                    await sub.conn.send_packed_command(sub.conn.pack_commands(commands), False)

    async def _read_loop(self) -> None:
        attempt = 0
        while True:
            if attempt:
                # Jittered: spreads the reconnect storm of many nodes after Redis restarts.
                await asyncio.sleep(self._backoff.delay(attempt - 1))
            sub = _SubConn(self._pool.make_connection())  # type: ignore[no-untyped-call]
            try:
                await self._connect(sub)
            except ERRORS as exc:
                await self._drop(sub)
                if attempt <= 1:
                    log.warning("redis pub/sub connection failed, retrying: %s", exc)
                attempt += 1
                continue
            if attempt:
                self.reconnects += 1
                log.info("redis pub/sub reconnected, %d channels re-subscribed", len(self._names))
                self._on_reconnect()
            try:
                await self._read(sub)
            except ERRORS as exc:
                self.disconnects += 1
                log.warning("redis pub/sub connection lost: %s", exc)
            finally:
                await self._drop(sub)
            self._on_down()  # not when closing: cancellation leaves through the finally
            attempt = 1

    async def _connect(self, sub: _SubConn) -> None:
        await sub.conn.connect()  # type: ignore[no-untyped-call]
        async with self._sub_lock:
            names = list(self._names)
            commands = []
            for chunk in chunks(names):
                sub.expect(len(chunk), None)
                commands.append(("SUBSCRIBE", *chunk))
            if commands:
                await sub.conn.send_packed_command(sub.conn.pack_commands(commands), False)
            self._sub = sub
        self.connected.set()

    async def _drop(self, sub: _SubConn) -> None:
        if self._sub is sub:
            self._sub = None
            self.connected.clear()
        sub.release()
        await sub.conn.disconnect(nowait=True)

    async def _read(self, sub: _SubConn) -> None:
        """The hot loop: one await per socket read, then every complete reply
        in that chunk is dispatched inline, the handler called synchronously.

        redis-py did the connect and handshake (auth, TLS); from here the
        connection's stream is read directly through a hiredis reader, which
        skips redis-py's per-reply call chain (timeouts, error formatting).
        """
        stream: asyncio.StreamReader | None = sub.conn._reader
        if stream is None:
            raise ConnectionError("pub/sub connection is closed")
        parser = hiredis.Reader()
        gets = parser.gets
        names = self._names  # mutated in place, never rebound
        handler = self._handler
        assert handler is not None
        while True:
            chunk = await stream.read(1 << 16)
            if not chunk:
                raise ConnectionError("connection closed by redis")
            parser.feed(chunk)
            while (reply := gets()) is not False:
                if reply.__class__ is not list:
                    log.warning("unexpected reply on the pub/sub connection: %r", reply)
                    continue
                kind = reply[0]
                if kind == b"message":
                    channel = names.get(reply[1])
                    if channel is None:
                        continue  # unsubscribed while the message was in flight
                    self.received += 1
                    try:
                        handler(channel, reply[2])
                    except Exception:
                        log.exception("broker handler failed for channel %r", channel)
                elif kind == b"subscribe" or kind == b"unsubscribe":
                    sub.confirm()
                elif kind == b"pong" and sub.pong is not None and not sub.pong.done():
                    sub.pong.set_result(None)

    async def _keepalive_loop(self) -> None:
        """PING the pub/sub connection: a silently dead peer would block the reader forever."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._keepalive)
            sub = self._sub
            if sub is None:
                continue
            sub.pong = loop.create_future()
            try:
                async with self._sub_lock:
                    await sub.conn.send_command("PING", check_health=False)
                await asyncio.wait_for(sub.pong, self._timeout)
            except ERRORS as exc:  # includes the timeout
                log.warning("redis pub/sub connection unresponsive, reconnecting: %r", exc)
                await sub.conn.disconnect(nowait=True)


def _nothing() -> None:
    """The callback before :meth:`PubSub.start`."""
