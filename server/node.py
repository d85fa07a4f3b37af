"""The composition root: one gateway node — store, broker, services, hub and router — wired.

Built inside the app's lifespan (no module-level state), so a test can run two
nodes in one process. Each part is handed what it needs; the gateway's per-connection
objects get :attr:`Node.gateway` (a :class:`~parley.server.gateway.context.GatewayContext`),
never the node.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Collection
from typing import cast

from parley.proto import ClientDecoder, encode, frames
from parley.proto.errors import CloseCode
from parley.server.broker import make_broker
from parley.server.channels import Control, encode_control
from parley.server.gateway.connection import Connection
from parley.server.gateway.context import (
    ConnectionBook,
    GatewayContext,
    GatewayCounters,
    RateLimits,
    SessionLimits,
)
from parley.server.gateway.echo import EchoFilter
from parley.server.gateway.fanout import GatewayFanOut
from parley.server.gateway.hub import Hub
from parley.server.gateway.membership import MembershipRepair
from parley.server.gateway.outbound import OutboundLedger
from parley.server.gateway.route_services import RouteServices
from parley.server.gateway.router import Router
from parley.server.instrumented import Instrumented
from parley.server.metrics import Metrics
from parley.server.ports import Broker, Store
from parley.server.services import Services, build_services
from parley.server.settings import Settings
from parley.server.shutdown import bounded, stop_task
from parley.server.store import open_store

__all__ = ["Node"]

log = logging.getLogger("parley.node")

SWEEP_INTERVAL = 1.0


class Node:
    """One node: builds every part from ``settings`` and the two adapters, starts and stops them,
    and sweeps its connections (auth and idle timeouts, presence refresh, broker probe)."""

    def __init__(self, settings: Settings, store: Store, broker: Broker) -> None:
        self.settings = settings
        self.metrics = Metrics()
        store = cast(Store, Instrumented(store, self.metrics.store_latency))
        broker = cast(Broker, Instrumented(broker, self.metrics.broker_latency))
        #: The store port: opened and closed here; everything else reaches it through services.
        self.store = store
        echoes = EchoFilter()  # shared by the fan-out (notes senders) and the hub (skips them)
        fanout = GatewayFanOut(broker, self.metrics, echoes)
        self.services: Services = build_services(settings, store, broker, fanout)
        self.hub = Hub(broker, self.metrics, probe_channel=f"x:{settings.node_id}", echoes=echoes)
        self.hub.on_marketing = self.services.delivered.pushed
        self.router = Router(
            RouteServices.of(self.services),
            self.hub,
            self.metrics,
            sync_budget=max(1, settings.outbound_queue // 2),
            presence_caps=(settings.presence_subs_per_connection, settings.presence_subs_per_user),
            sync_page=settings.sync_page_convs,
        )
        #: Re-reads cached memberships from the store after broker gaps (authorisation).
        self.membership = MembershipRepair(self.hub, self.services)
        self.hub.on_sync = lambda app, user: self.membership.users([(app, user)])
        #: Result of the last end-to-end broker probe (``/readyz``).
        self.broker_ready = True
        self.metrics.connections.set_function(lambda: len(self.hub.connections))
        self.metrics.pending.set_function(lambda: len(self.pending))
        #: What the outbound queues of this node's connections hold, shared frames once.
        self.outbound = OutboundLedger()
        self.metrics.watch_outbound(self.outbound)
        self.book = ConnectionBook(self.hub, self.services.presence)
        self.rates = RateLimits(settings)
        #: What the gateway's per-connection objects use (they never see the node).
        self.gateway = GatewayContext(
            limits=SessionLimits.of(settings),
            decoder=ClientDecoder(settings.max_frame),
            router=self.router,
            hub=self.hub,
            tokens=self.services.tokens,
            presence=self.services.presence,
            memberships=self._memberships,
            rates=self.rates,
            counters=GatewayCounters(self.metrics),
            book=self.book,
            outbound=self.outbound,
        )
        self._sweeper: asyncio.Task[None] | None = None
        #: The scheduled audience pass (retention, RFM, lifecycle, lapsed rule tags).
        self._passes: asyncio.Task[None] | None = None
        #: The recovery of events a crashed node stored but did not apply.
        self._recovery: asyncio.Task[None] | None = None
        #: The scheduled re-evaluation of time-relative dynamic segments.
        self._segment_refresh: asyncio.Task[None] | None = None
        self._campaign_sender: asyncio.Task[None] | None = None
        self._journey_timers: asyncio.Task[None] | None = None
        self._conversion_catchup: asyncio.Task[None] | None = None
        self._opened_at: dict[Connection, float] = {}

    @property
    def pending(self) -> set[Connection]:
        """Connections that have not sent ``hello`` yet."""
        return self.book.pending

    @property
    def draining(self) -> bool:
        """True once the node stopped accepting connections."""
        return self.book.draining

    @draining.setter
    def draining(self, value: bool) -> None:
        """Set by :meth:`drain` (and by tests that refuse new sockets)."""
        self.book.draining = value

    async def _memberships(self, app: str, user: str) -> list[str]:
        return [c.conv for c, _ in await self.services.conversations.memberships(app, user)]

    @classmethod
    def from_settings(cls, settings: Settings) -> Node:
        """A node over the adapters ``settings`` name (SQLite or MongoDB; memory or Redis)."""
        store = open_store(
            settings.mongo_url,
            sqlite_path=settings.sqlite_path,
            mongo_database=settings.mongo_database,
            timeout=settings.store_timeout,
        )
        return cls(settings, store, make_broker(settings.redis_url))

    async def start(self) -> None:
        """Open the store, start the broker with the hub's handlers, start the sweeper."""
        await self.store.open()
        await self.services.broker.start(self.hub.on_message, self._on_gap, self.membership.suspend)
        await self.services.broker.subscribe([self.hub.probe_channel])
        self._sweeper = asyncio.create_task(self._sweep())
        if self.settings.audience_pass_interval > 0:
            self._passes = asyncio.create_task(
                self.services.audience_pass.loop(self.settings.audience_pass_interval)
            )
        if self.settings.event_recovery_interval > 0:
            self._recovery = asyncio.create_task(
                self.services.apply_recovery.loop(self.settings.event_recovery_interval)
            )
        if self.settings.campaign_interval > 0:
            self._campaign_sender = asyncio.create_task(
                self.services.campaigns.loop(self.settings.campaign_interval)
            )
        if self.settings.journey_interval > 0:
            self._journey_timers = asyncio.create_task(
                self.services.journeys.loop(self.settings.journey_interval)
            )
        if self.settings.conversion_catchup_interval > 0:
            self._conversion_catchup = asyncio.create_task(
                self.services.conversions.loop(self.settings.conversion_catchup_interval)
            )
        if self.settings.segment_refresh_interval > 0:
            self._segment_refresh = asyncio.create_task(
                self.services.segments.loop(self.settings.segment_refresh_interval)
            )

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
        if self.book.background:
            await asyncio.wait(self.book.background, timeout=2.0)
        for task, what in (
            (self._sweeper, "the connection sweeper"),
            (self._passes, "the behaviour passes"),
            (self._recovery, "the event recovery"),
            (self._segment_refresh, "the segment refresh"),
            (self._campaign_sender, "the campaign sender"),
            (self._journey_timers, "the journey timers"),
            (self._conversion_catchup, "the conversion catch-up"),
        ):
            await stop_task(task, what)
        # Each step is bounded: with the store gone every write fails, and the sum of retries
        # must not keep the process from exiting (what is lost is logged by the step itself).
        await bounded(self.services.receipts.drain(), "writing read positions")
        await bounded(self.services.events.applier.close(), "applying queued events", timeout=6.0)
        await bounded(self.services.segments.sync.close(), "segment membership checks")
        await bounded(self.services.optout.drain(), "recording opt-outs")
        await self.services.conversions.close()
        await self.services.delivered.close()
        await bounded(self.services.brand_support.close(), "opening support cases of replies")
        await bounded(self.services.broker.flush(), "flushing the broker")
        await bounded(self.services.broker.close(), "closing the broker")
        await bounded(self.store.close(), "closing the store", timeout=10.0)

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
            self.rates.prune(lambda app, user: bool(self.hub.devices(app, user)))
            if now - last_refresh > self.settings.presence_ttl / 3:
                last_refresh = now
                entries = [(c.app, c.user, c.id) for c in self.hub.connections]
                try:
                    await self.services.presence.refresh(entries)
                except Exception:
                    log.warning("presence refresh failed")
