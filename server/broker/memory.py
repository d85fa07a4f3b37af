"""In-process broker: the single-node default, and two "nodes" in one test process.

Several :class:`MemoryBroker` instances that share one :class:`MemoryHub` see
each other's publishes and presence, exactly like nodes sharing one Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection

from parley.server.ports import BrokerUnavailable, DownHandler, GapHandler, MessageHandler

__all__ = ["MemoryBroker", "MemoryHub"]

log = logging.getLogger(__name__)


class MemoryHub:
    """The shared "backing service" of in-process brokers: subscriptions and presence.

    Presence maps ``key -> {conn: expiry}`` on the :func:`time.monotonic` clock;
    expired entries are ignored on read and dropped on the next write to the key.
    """

    def __init__(self) -> None:
        self.subscribers: dict[str, set[MemoryBroker]] = {}
        self.presence: dict[str, dict[str, float]] = {}

    def live(self, key: str, now: float) -> dict[str, float]:
        """The live entries of ``key``, with expired ones removed from the registry."""
        entries = self.presence.get(key)
        if not entries:
            return {}
        expired = [conn for conn, expiry in entries.items() if expiry <= now]
        for conn in expired:
            del entries[conn]
        if not entries:
            del self.presence[key]
        return entries


class MemoryBroker:
    """The :class:`~parley.server.ports.Broker` port, in memory.

    ``publish`` only queues; the queue is delivered by one ``call_soon``
    callback per loop iteration, in publish order, never re-entrantly inside
    ``publish`` (a handler may publish again safely). Subscriptions are active
    as soon as ``subscribe`` returns.
    """

    def __init__(self, hub: MemoryHub | None = None) -> None:
        self.hub = hub if hub is not None else MemoryHub()
        self._handler: MessageHandler | None = None
        self._channels: set[str] = set()
        self._queue: list[tuple[str, bytes]] = []
        self._scheduled = False
        self._closed = False
        #: Messages handed to the hub (counted at delivery) — for tests and metrics.
        self.published = 0
        #: Messages dropped because the broker was closed.
        self.dropped = 0

    async def start(
        self, handler: MessageHandler, on_gap: GapHandler | None = None, on_down: DownHandler | None = None
    ) -> None:
        """Deliver subscribed channels to ``handler``; ``on_gap`` and ``on_down`` are never called,
        since in-process delivery never loses a message."""
        self._handler = handler
        self._closed = False

    async def close(self) -> None:
        """Deliver what was published before, then leave every channel; later publishes are
        dropped and counted in :attr:`dropped`."""
        self._deliver()  # hand over what was published before close
        await self.unsubscribe(list(self._channels))
        self._closed = True
        self._handler = None

    async def ping(self) -> None:
        """Raise :class:`BrokerUnavailable` once the broker is closed (nothing else can fail in memory)."""
        if self._closed:
            raise BrokerUnavailable("memory broker is closed")

    async def subscribe(self, channels: Collection[str]) -> None:
        """Subscribe (idempotent); active as soon as this returns."""
        for channel in channels:
            if channel not in self._channels:
                self._channels.add(channel)
                self.hub.subscribers.setdefault(channel, set()).add(self)

    async def unsubscribe(self, channels: Collection[str]) -> None:
        """Stop delivery for ``channels`` at once (idempotent)."""
        for channel in channels:
            if channel in self._channels:
                self._channels.discard(channel)
                subs = self.hub.subscribers.get(channel)
                if subs is not None:
                    subs.discard(self)
                    if not subs:
                        del self.hub.subscribers[channel]

    def publish(self, channel: str, data: bytes) -> None:
        """Queue ``data`` for ``channel``; delivered in publish order by one callback per loop iteration."""
        if self._closed:
            self.dropped += 1
            return
        self._queue.append((channel, data))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._deliver)

    async def flush(self) -> None:
        """Deliver everything queued now, including what handlers publish while it runs."""
        # Deliver now instead of waiting for the scheduled callback (which
        # then finds an empty queue). A handler that publishes again refills
        # the queue, hence the loop.
        while self._queue:
            self._deliver()

    def _deliver(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, []
        subscribers = self.hub.subscribers
        for channel, data in queue:
            targets = subscribers.get(channel)
            if not targets:
                continue
            # Copy: a handler may (un)subscribe while we iterate.
            for broker in tuple(targets):
                broker._receive(channel, data)
        self.published += len(queue)

    def _receive(self, channel: str, data: bytes) -> None:
        handler = self._handler
        if handler is None or channel not in self._channels:
            return
        try:
            handler(channel, data)
        except Exception:
            # One broken handler must not stop delivery to the other nodes.
            log.exception("broker handler failed for channel %r", channel)

    # presence ---------------------------------------------------------
    async def presence_add(self, key: str, conn: str, ttl: float) -> bool:
        """Register ``conn`` for ``key`` for ``ttl`` seconds (monotonic clock); True if ``key``
        just came online."""
        now = time.monotonic()
        live = self.hub.live(key, now)
        came_online = not live
        self.hub.presence.setdefault(key, live)[conn] = now + ttl
        return came_online

    async def presence_remove(self, key: str, conn: str) -> bool:
        """Drop ``conn`` from ``key``; True only if it was registered and no live connection is left."""
        entries = self.hub.presence.get(key)
        if entries is None or conn not in entries:
            return False  # already gone: the transition was reported before
        del entries[conn]
        return not self.hub.live(key, time.monotonic())

    async def presence_refresh(self, entries: Collection[tuple[str, str]], ttl: float) -> None:
        """Extend entries that still exist by ``ttl``; a refresh racing a remove never resurrects it."""
        expiry = time.monotonic() + ttl
        presence = self.hub.presence
        for key, conn in entries:
            conns = presence.get(key)
            # Only extend entries that still exist: a refresh racing a
            # remove must not resurrect a closed connection.
            if conns is not None and conn in conns:
                conns[conn] = expiry

    async def presence_online(self, keys: Collection[str]) -> set[str]:
        """The subset of ``keys`` with at least one unexpired connection."""
        now = time.monotonic()
        return {key for key in keys if self.hub.live(key, now)}
