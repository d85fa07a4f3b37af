"""Redis broker: pipelined PUBLISH, one pub/sub connection, presence hashes.

Hot path, and why it is shaped this way:

* ``publish`` appends ``(channel, bytes)`` to a list and wakes one flusher
  task. The flusher writes everything buffered as one pipeline (one write,
  one round trip) per round, so N publishes issued in one loop iteration
  cost one round trip, and per-channel order is the buffer order.
* Every subscribed channel shares ONE pub/sub connection, read by ONE task
  that calls the handler synchronously with the raw payload: no task per
  message and no decoding (channel names are looked up, not decoded). That
  side is :class:`~parley.server.broker.redis_pubsub.PubSub`, owned here;
  presence is :class:`~parley.server.broker.redis_presence.RedisPresence`.

Connections per broker: the flusher's own, the pub/sub one, and a small
bounded pool (``max_connections``) for presence and ``ping``.

Presence lives in one hash per key, ``conn -> expiry`` in milliseconds on the
Redis clock (``TIME``), so nodes with skewed clocks agree. Transitions are
computed inside Lua scripts, so they are atomic across nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection

import hiredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError

from parley.proto.backoff import Backoff
from parley.server.broker.redis_presence import ERRORS as _ERRORS
from parley.server.broker.redis_presence import RedisPresence
from parley.server.broker.redis_pubsub import PubSub
from parley.server.ports import BrokerUnavailable, DownHandler, GapHandler, MessageHandler

__all__ = ["RedisBroker"]

log = logging.getLogger(__name__)


#: Reconnect and publish-retry delays: short, so a Redis restart costs ~seconds.
_RECONNECT = Backoff(min_delay=0.05, max_delay=2.0)


def _pack_publish(batch: list[tuple[bytes, bytes]]) -> bytes:
    """RESP for N PUBLISH commands, built directly: redis-py's generic
    ``pack_command`` was the top cost of a publish in profiles."""
    parts: list[bytes] = []
    append = parts.append
    for channel, data in batch:
        append(b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%b\r\n$%d\r\n" % (len(channel), channel, len(data)))
        append(data)
        append(b"\r\n")
    return b"".join(parts)


async def _read_replies(conn: AbstractConnection, parser: hiredis.Reader, count: int) -> None:
    """Consume ``count`` replies (PUBLISH receiver counts: nothing to keep)."""
    stream = conn._reader
    if stream is None:
        raise ConnectionError("connection is closed")
    gets = parser.gets
    while count:
        reply = gets()
        if reply is False:
            chunk = await stream.read(1 << 16)
            if not chunk:
                raise ConnectionError("connection closed by redis")
            parser.feed(chunk)
        else:
            count -= 1
            if isinstance(reply, hiredis.ReplyError):
                raise RedisError(f"PUBLISH failed: {reply}")


class RedisBroker(RedisPresence):
    """The :class:`~parley.server.ports.Broker` port on Redis pub/sub.

    * ``publish`` never raises and never blocks. While Redis is unreachable,
      rounds fail and their messages are dropped (at-most-once) and counted
      in :attr:`dropped`. The buffer holds at most ``max_buffer`` messages:
      beyond that the NEWEST are dropped (the buffered prefix stays
      contiguous, so a receiver sees one gap, not holes). Memory is bounded
      by twice ``max_buffer`` (the buffer plus the round in flight).
    * ``subscribe`` returns once Redis has confirmed every channel — or at
      once if the pub/sub connection is down, or after ``timeout``; in every
      case the channels stay in the subscription set, which the reader
      re-subscribes by itself after each reconnect (jittered backoff).
    * ``unsubscribe`` stops delivery immediately (messages already in flight
      for those channels are filtered out) and does not wait for Redis.
    * Presence and ``ping`` raise :class:`BrokerUnavailable` on Redis errors.

    Counters for tests and metrics: :attr:`published`, :attr:`dropped`,
    :attr:`pipelines` (publish round trips), :attr:`received`,
    :attr:`reconnects` (pub/sub reconnections), :attr:`disconnects` (pub/sub connections lost).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "parley:",
        max_buffer: int = 100_000,
        max_connections: int = 16,
        timeout: float = 5.0,
        keepalive: float = 15.0,
        backoff: Backoff = _RECONNECT,
    ) -> None:
        self._prefix = prefix
        self._max_buffer = max_buffer
        self._timeout = timeout
        self._backoff = backoff
        # A bounded, blocking pool (presence, ping; the flusher and the reader
        # take one dedicated connection each from its settings): under load
        # callers queue for a connection instead of failing or opening new
        # ones (the redis-py "too many connections" trap). RESP2 keeps pub/sub
        # replies plain arrays. No retries inside redis-py: a retried PUBLISH
        # pipeline could duplicate messages.
        self._pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            protocol=2,
        )
        self._redis = Redis.from_pool(self._pool)
        self._init_presence(self._redis, prefix)
        self._pubsub = PubSub(
            self._pool, prefix=prefix, timeout=timeout, keepalive=keepalive, backoff=backoff
        )

        self._tasks: list[asyncio.Task[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False

        # publish side
        self._buffer: list[tuple[bytes, bytes]] = []
        self._wake = asyncio.Event()
        self._enqueued = 0  # messages accepted by publish()
        self._settled = 0  # of those, sent or dropped by the flusher
        self._settled_event = asyncio.Event()
        self._pub: tuple[AbstractConnection, hiredis.Reader] | None = None  # the flusher's own

        self.published = 0
        self.dropped = 0
        self.pipelines = 0
        self._on_gap: GapHandler | None = None
        self._on_down: DownHandler | None = None
        #: Channels whose publishes were dropped since the last successful round.
        self._gap_channels: set[bytes] = set()

    # lifecycle --------------------------------------------------------
    async def start(
        self, handler: MessageHandler, on_gap: GapHandler | None = None, on_down: DownHandler | None = None
    ) -> None:
        """Connect; raise :class:`BrokerUnavailable` if Redis cannot be reached."""
        self._on_gap = on_gap
        self._on_down = on_down
        self._closing = False
        await self.ping()
        self._flusher = asyncio.create_task(self._flush_loop(), name="parley-broker-flush")
        self._tasks = [
            self._flusher,
            *self._pubsub.start(handler, on_reconnect=self._report_reconnect, on_down=self._report_down),
        ]
        try:
            await asyncio.wait_for(self._pubsub.connected.wait(), self._timeout)
        except TimeoutError:
            await self.close()
            raise BrokerUnavailable("pub/sub connection not established") from None

    async def close(self) -> None:
        """Stop for good: flush what is buffered (for at most ``timeout``), drop and count the
        rest, end the tasks and close every connection."""
        self._closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), self._timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._flusher = None
        self.dropped += len(self._buffer)
        self._buffer = []
        self._settle(self._enqueued - self._settled)
        if self._pub is not None:
            await self._pub[0].disconnect(nowait=True)
            self._pub = None
        await self._redis.aclose()

    async def ping(self) -> None:
        """Round-trip to Redis; raise :class:`BrokerUnavailable` if it fails."""
        try:
            await self._redis.ping()
        except _ERRORS as exc:
            raise BrokerUnavailable(f"redis: {exc}") from exc

    # publish ----------------------------------------------------------
    def publish(self, channel: str, data: bytes) -> None:
        """Queue ``data`` for ``channel`` and wake the flusher; never raises, never blocks.

        When closing or when the buffer holds ``max_buffer`` messages the message is dropped
        and counted, and its channel is reported as a gap after the next successful round.
        """
        if self._closing or len(self._buffer) >= self._max_buffer:
            self.dropped += 1
            if not self._closing:
                self._gap_channels.add((self._prefix + channel).encode())
            return
        self._buffer.append(((self._prefix + channel).encode(), data))
        self._enqueued += 1
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every message published so far was sent to Redis or dropped."""
        target = self._enqueued
        while self._settled < target and self._flusher is not None and not self._flusher.done():
            await self._settled_event.wait()

    def _settle(self, count: int) -> None:
        self._settled += count
        event, self._settled_event = self._settled_event, asyncio.Event()
        event.set()

    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._buffer:
                batch, self._buffer = self._buffer, []
                try:
                    await self._send(batch)
                except _ERRORS as exc:
                    self.dropped += len(batch)
                    self._gap_channels.update(channel for channel, _ in batch)
                    self._settle(len(batch))
                    if failures == 0:
                        log.warning("redis publish failed, dropping messages until it is back: %s", exc)
                    failures += 1
                    # Don't spin while Redis is down; publishes meanwhile
                    # wait in the bounded buffer and are tried next round.
                    await asyncio.sleep(self._backoff.delay(failures - 1))
                    continue
                failures = 0
                self.pipelines += 1
                self.published += len(batch)
                self._settle(len(batch))
                if self._gap_channels:
                    self._report_gap(self._gap_channels)
                    self._gap_channels = set()

    async def _send(self, batch: list[tuple[bytes, bytes]]) -> None:
        """One pipeline round trip: the same bytes on the wire as
        ``pipeline(transaction=False)``, without its per-command bookkeeping.

        The flusher owns its connection (not a pooled one) so it can read the
        N integer replies straight through a hiredis reader, one await per
        socket read instead of one redis-py call chain per reply.
        """
        if self._pub is not None and (self._pub[0]._reader is None or self._pub[0]._reader.at_eof()):
            # Closed by the server while idle (e.g. a Redis restart): reconnect
            # now rather than lose this round to a dead socket.
            await self._pub[0].disconnect(nowait=True)
            self._pub = None
        if self._pub is None:
            conn = self._pool.make_connection()  # type: ignore[no-untyped-call]
            await conn.connect()  # type: ignore[no-untyped-call]
            self._pub = (conn, hiredis.Reader())
        conn, parser = self._pub
        try:
            # One deadline for the whole round instead of one timer per reply.
            async with asyncio.timeout(self._timeout):
                await conn.send_packed_command(_pack_publish(batch), check_health=False)
                await _read_replies(conn, parser, len(batch))
        except BaseException:
            # Replies may still be unread: the connection is out of sync.
            self._pub = None
            await conn.disconnect(nowait=True)
            raise

    # subscribe --------------------------------------------------------
    async def subscribe(self, channels: Collection[str]) -> None:
        """Subscribe (idempotent) with one SUBSCRIBE per call; see the class doc for when it returns."""
        await self._pubsub.subscribe(channels)

    async def unsubscribe(self, channels: Collection[str]) -> None:
        """Stop delivery for ``channels`` at once; Redis is told without waiting for its answer."""
        await self._pubsub.unsubscribe(channels)

    @property
    def received(self) -> int:
        """Messages handed to the handler."""
        return self._pubsub.received

    @property
    def reconnects(self) -> int:
        """Pub/sub reconnections."""
        return self._pubsub.reconnects

    @property
    def disconnects(self) -> int:
        """Pub/sub connections found dead (an error or a missed keepalive)."""
        return self._pubsub.disconnects

    # reports ----------------------------------------------------------
    def _report_down(self) -> None:
        if self._on_down is None:
            return
        try:
            self._on_down()
        except Exception:
            log.exception("down handler failed")

    def _report_reconnect(self) -> None:
        self._report_gap(None)  # the pub/sub connection was down: any channel may have missed messages

    def _report_gap(self, channels: set[bytes] | None) -> None:
        if self._on_gap is None:
            return
        cut = len(self._prefix)
        names = None if channels is None else [c.decode()[cut:] for c in channels]
        try:
            self._on_gap(names)
        except Exception:
            log.exception("gap handler failed")
