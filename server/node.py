"""A gateway node: the store, broker, services, hub and router wired together.

Built inside the app's lifespan (no module-level state), so a test can run two
nodes in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

from parley.proto import ClientDecoder, encode, frames
from parley.proto.errors import CloseCode
from parley.server.broker import make_broker
from parley.server.gateway.connection import Connection
from parley.server.gateway.hub import Hub
from parley.server.gateway.router import Router
from parley.server.ports import Broker, Store
from parley.server.services import Services, build_services
from parley.server.settings import Settings
from parley.server.store import open_store

__all__ = ["Node"]

log = logging.getLogger("parley.node")

SWEEP_INTERVAL = 1.0


class Node:
    def __init__(self, settings: Settings, store: Store, broker: Broker) -> None:
        self.settings = settings
        self.services: Services = build_services(settings, store, broker)
        self.hub = Hub(broker)
        self.router = Router(self.services, self.hub)
        self.decoder = ClientDecoder(settings.max_frame)
        #: Connections that have not sent ``hello`` yet.
        self.pending: set[Connection] = set()
        self.draining = False
        self._sweeper: asyncio.Task[None] | None = None
        self._opened_at: dict[Connection, float] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Node:
        store = open_store(
            settings.mongo_url, sqlite_path=settings.sqlite_path, mongo_database=settings.mongo_database
        )
        return cls(settings, store, make_broker(settings.redis_url))

    async def start(self) -> None:
        await self.services.store.open()
        await self.services.broker.start(self.hub.on_message)
        self._sweeper = asyncio.create_task(self._sweep())

    async def stop(self) -> None:
        """Drain (tell clients to reconnect elsewhere), then release the store and broker."""
        await self.drain()
        if self._sweeper:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.services.receipts.drain()
        with contextlib.suppress(Exception):
            await self.services.broker.flush()
        await self.services.broker.close()
        await self.services.store.close()

    async def drain(self) -> None:
        """Stop accepting, send ``bye`` to everyone and close with 1012 so clients resume elsewhere."""
        if self.draining:
            return
        self.draining = True
        connections = list(self.hub.connections | self.pending)
        for conn in connections:
            # Spread reconnects so the surviving nodes are not hit all at once.
            conn.push(encode(frames.Bye(reason="node shutting down", reconnect_ms=random.randint(0, 2000))))
            conn.close(CloseCode.SERVICE_RESTART, "node shutting down")
        writers = [c.writer for c in connections if c.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=self.settings.shutdown_grace)

    async def forget(self, conn: Connection) -> None:
        """Clean up after a connection ended, whoever ended it."""
        if conn.authenticated:
            self.hub.unregister(conn)
            try:
                await self.services.presence.disconnected(conn.app, conn.user, conn.id)
            except Exception:
                log.warning("presence of %s not cleared", conn.id)
        conn.close(CloseCode.NORMAL, "closed")
        if conn.writer is not None and not conn.writer.done():
            try:
                await asyncio.wait_for(asyncio.shield(conn.writer), 2.0)
            except (TimeoutError, asyncio.CancelledError):
                conn.writer.cancel()

    async def _sweep(self) -> None:
        """One task for all connections: auth timeouts, idle timeouts, presence refresh."""
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = time.monotonic()
            for conn in list(self.pending):
                opened = self._opened_at.setdefault(conn, now)
                if now - opened > self.settings.auth_timeout:
                    self.pending.discard(conn)
                    conn.close(CloseCode.AUTH_TIMEOUT, "no hello in time")
            self._opened_at = {c: t for c, t in self._opened_at.items() if c in self.pending}
            for conn in list(self.hub.connections):
                if now - conn.last_seen > self.settings.idle_timeout:
                    conn.close(CloseCode.IDLE_TIMEOUT, "idle")
            if now - last_refresh > self.settings.presence_ttl / 3:
                last_refresh = now
                entries = [(c.app, c.user, c.id) for c in self.hub.connections]
                try:
                    await self.services.presence.refresh(entries)
                except Exception:
                    log.warning("presence refresh failed")
