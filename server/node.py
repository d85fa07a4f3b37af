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
from collections.abc import Collection
from typing import Any, cast

from parley.proto import ClientDecoder, encode, frames
from parley.proto.errors import CloseCode
from parley.server.broker import make_broker
from parley.server.channels import Control, encode_control
from parley.server.gateway.connection import Connection
from parley.server.gateway.echo import EchoFilter
from parley.server.gateway.fanout import GatewayFanOut
from parley.server.gateway.hub import Hub
from parley.server.gateway.limits import TokenBucket
from parley.server.gateway.membership import MembershipRepair
from parley.server.gateway.outbound import OutboundLedger
from parley.server.gateway.router import Router
from parley.server.instrumented import Instrumented
from parley.server.metrics import Metrics
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
        self.metrics = Metrics()
        store = cast(Store, Instrumented(store, self.metrics.store_latency))
        broker = cast(Broker, Instrumented(broker, self.metrics.broker_latency))
        echoes = EchoFilter()  # shared by the fan-out (notes senders) and the hub (skips them)
        fanout = GatewayFanOut(broker, self.metrics, echoes)
        self.services: Services = build_services(settings, store, broker, fanout)
        self.hub = Hub(broker, self.metrics, probe_channel=f"x:{settings.node_id}", echoes=echoes)
        self.router = Router(
            self.services,
            self.hub,
            self.metrics,
            sync_budget=max(1, settings.outbound_queue // 2),
            presence_caps=(settings.presence_subs_per_connection, settings.presence_subs_per_user),
            sync_page=settings.sync_page_convs,
        )
        self.decoder = ClientDecoder(settings.max_frame)
        #: Re-reads cached memberships from the store after broker gaps (authorisation).
        self.membership = MembershipRepair(self.hub, self.services)
        self.hub.on_sync = lambda app, user: self.membership.users([(app, user)])
        #: Send rate limits per user on this node (shared by the user's connections here).
        self.user_buckets: dict[tuple[str, str], TokenBucket] = {}
        #: Typing and draft rate limits per user on this node.
        self.ephemeral_buckets: dict[tuple[str, str], TokenBucket] = {}
        #: Result of the last end-to-end broker probe (``/readyz``).
        self.broker_ready = True
        self._in_by_type: dict[type, Any] = {}
        self.metrics.connections.set_function(lambda: len(self.hub.connections))
        self.metrics.pending.set_function(lambda: len(self.pending))
        #: What the outbound queues of this node's connections hold, shared frames once.
        self.outbound = OutboundLedger()
        self.metrics.watch_outbound(self.outbound)
        #: Connections that have not sent ``hello`` yet.
        self.pending: set[Connection] = set()
        self.draining = False
        self._sweeper: asyncio.Task[None] | None = None
        self._opened_at: dict[Connection, float] = {}
        #: Clean-ups of closed connections still running.
        self.background: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> Node:
        store = open_store(
            settings.mongo_url,
            sqlite_path=settings.sqlite_path,
            mongo_database=settings.mongo_database,
            timeout=settings.store_timeout,
        )
        return cls(settings, store, make_broker(settings.redis_url))

    async def start(self) -> None:
        await self.services.store.open()
        await self.services.broker.start(self.hub.on_message, self._on_gap, self.membership.suspend)
        await self.services.broker.subscribe([self.hub.probe_channel])
        self._sweeper = asyncio.create_task(self._sweep())

    def _on_gap(self, channels: Collection[str] | None) -> None:
        """The broker may have lost messages: tell the affected clients to sync from the store."""
        if channels is None:
            # Our subscription was interrupted: every local connection may have missed anything,
            # membership changes included, so cached memberships are re-read before trusted again.
            self.membership.all_users()
            frame = encode(frames.Resync())
            for conn in self.hub.connections:
                conn.cleared = set()  # a block or mute event may have been lost with the rest
                conn.push(frame)
            log.info(
                "broker subscription recovered; %d connections told to resync", len(self.hub.connections)
            )
            return
        # Our publishes were dropped: tell every recipient, on every node, through the channels.
        for channel in channels:
            if channel.startswith("c:"):
                conv = channel.split(":", 2)[2]
                self.services.broker.publish(channel, encode(frames.Resync(convs=[conv])))
            elif channel.startswith("m:"):
                # A membership change of this user may be lost: every node re-reads theirs.
                _, app, user = channel.split(":", 2)
                sync = Control(op="sync", app=app, user=user, conv="", frame=b"")
                self.services.broker.publish(channel, encode_control(sync))
        log.info("broker publishes recovered; %d channels told to resync", len(channels))

    def count_in(self, frame: Any) -> None:
        kind = type(frame)
        child = self._in_by_type.get(kind)
        if child is None:
            child = self._in_by_type[kind] = self.metrics.frames_in.labels(frame.__struct_config__.tag)
        child.inc()

    def connection_bucket(self) -> TokenBucket | None:
        s = self.settings
        return TokenBucket(s.rate_frames, s.rate_frames_burst) if s.rate_frames > 0 else None

    def user_bucket(self, app: str, user: str) -> TokenBucket | None:
        s = self.settings
        if s.rate_sends <= 0:
            return None
        bucket = self.user_buckets.get((app, user))
        if bucket is None:
            bucket = self.user_buckets[(app, user)] = TokenBucket(s.rate_sends, s.rate_sends_burst)
        return bucket

    def ephemeral_bucket(self, app: str, user: str) -> TokenBucket | None:
        """The user's bucket for ``typing`` and ``draft`` frames (fanned out to every member)."""
        s = self.settings
        if s.rate_ephemeral <= 0:
            return None
        bucket = self.ephemeral_buckets.get((app, user))
        if bucket is None:
            bucket = TokenBucket(s.rate_ephemeral, s.rate_ephemeral_burst)
            self.ephemeral_buckets[(app, user)] = bucket
        return bucket

    async def check_broker(self) -> bool:
        """Probe the broker end to end; on failure re-subscribe everything (a silently dead subscription)."""
        ok = await self.hub.probe(self.settings.probe_timeout)
        if not ok:
            log.warning("broker probe failed; re-subscribing", extra={"node_id": self.settings.node_id})
            try:
                await self.hub.resubscribe()
            except Exception:
                log.warning("re-subscribe failed")
            self.membership.all_users()  # control events may have been lost meanwhile
        self.broker_ready = ok
        return ok

    async def stop(self) -> None:
        """Drain (tell clients to reconnect elsewhere), then release the store and broker."""
        await self.drain()
        if self.background:
            await asyncio.wait(self.background, timeout=2.0)
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
        waiting = [asyncio.ensure_future(c.wait_lost()) for c in connections if not c.lost]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=self.settings.shutdown_grace)
            for task in late:
                task.cancel()
        for conn in connections:
            conn.abort()  # clients that did not finish the closing handshake in time

    async def forget(self, conn: Connection) -> None:
        """Clean up after a connection ended, whoever ended it."""
        if conn.authenticated:
            self.hub.unregister(conn)
            try:
                await self.services.presence.disconnected(conn.app, conn.user, conn.id)
            except Exception:
                log.warning("presence of %s not cleared", conn.id)

    async def _sweep(self) -> None:
        """One task for all connections: auth timeouts, idle timeouts, presence refresh."""
        last_refresh = last_probe = time.monotonic()
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
            if now - last_probe > self.settings.probe_interval:
                last_probe = now
                await self.check_broker()
            for buckets in (self.user_buckets, self.ephemeral_buckets):
                for key in [k for k in buckets if not self.hub.devices(*k)]:
                    del buckets[key]
            if now - last_refresh > self.settings.presence_ttl / 3:
                last_refresh = now
                entries = [(c.app, c.user, c.id) for c in self.hub.connections]
                try:
                    await self.services.presence.refresh(entries)
                except Exception:
                    log.warning("presence refresh failed")
