"""Local fan-out: which connections on this node receive which broker channel.

The hub subscribes the broker to a channel when the first local connection
needs it and unsubscribes when the last one leaves, so a node receives only
what its connections need. Incoming bytes are pushed, unchanged, to every
local subscriber: one encode per message for the whole cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from parley.proto import encode, frames
from parley.proto.campaign import MARKER_BYTES
from parley.proto.codec import peek_type
from parley.server.channels import (
    control_channel,
    conv_channel,
    decode_control,
    presence_channel,
    user_channel,
)
from parley.server.coalesce import Coalescer
from parley.server.gateway import enforce
from parley.server.gateway.connection import Connection
from parley.server.gateway.echo import EchoFilter
from parley.server.gateway.wsframe import binary_frame
from parley.server.ids import now_ms
from parley.server.metrics import Metrics
from parley.server.ports import Broker

__all__ = ["Hub"]

log = logging.getLogger("parley.hub")

_msg_decoder = msgspec.msgpack.Decoder(frames.Msg)


class Hub:
    """This node's local fan-out: broker channel → its local connections (see the module doc).
    Deliveries never await and never read the store; each message is framed once per hub."""

    def __init__(
        self, broker: Broker, metrics: Metrics, *, probe_channel: str = "", echoes: EchoFilter | None = None
    ) -> None:
        self._broker = broker
        self._echoes = echoes if echoes is not None else EchoFilter()
        self._metrics = metrics
        self._out_by_type: dict[str, Any] = {}
        self._sample = 0
        #: A channel only this node subscribes to; bytes on it resolve probe waiters.
        self.probe_channel = probe_channel
        self._probes: dict[bytes, asyncio.Future[None]] = {}
        self._subs: dict[str, set[Connection]] = {}
        self._users: dict[tuple[str, str], set[Connection]] = {}
        self.connections: set[Connection] = set()
        #: Control events seen per (app, user) with local devices: a membership repair
        #: re-reads the store if one arrived while it was reading (its snapshot may be older).
        self.control_seen: dict[tuple[str, str], int] = {}
        #: Called with (app, user) when a node asks every node to re-read that user's
        #: membership (its control events may have been lost); set by the node.
        self.on_sync: Callable[[str, str], None] | None = None
        #: Called with a fanned-out frame that may carry a campaign marker and the (app, user) of each
        #: live connection that accepted it (the ``delivered`` count); set by the node.
        self.on_marketing: Callable[[bytes, list[tuple[str, str]]], None] | None = None
        #: False while the broker subscription is down: connections registered meanwhile
        #: start untrusted too (see :mod:`parley.server.gateway.membership`).
        self.trust_convs = True
        #: Deliveries pushed to local connections (metrics).
        self.deliveries = 0
        self._pending_unsub: set[str] = set()
        self._unsub_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        #: Broker subscriptions of joined conversations in flight, by channel (see :meth:`_joined`).
        self._subscribing: dict[str, asyncio.Task[None]] = {}
        self._subscribes: Coalescer[list[str], None] = Coalescer(self._subscribe_batch, max_batch=1000)

    # ----------------------------------------------------------- membership
    async def register(self, conn: Connection, convs: Iterable[str]) -> None:
        """Start delivering to an authenticated connection."""
        self.connections.add(conn)
        self._users.setdefault((conn.app, conn.user), set()).add(conn)
        conn.convs.update(convs)
        conn.convs_trusted = self.trust_convs
        channels = [user_channel(conn.app, conn.user), control_channel(conn.app, conn.user)]
        channels += [conv_channel(conn.app, c) for c in conn.convs]
        await self.attach(conn, channels)

    def unregister(self, conn: Connection) -> None:
        """Stop delivering to ``conn``; channels nobody here needs any more are unsubscribed (batched)."""
        self.connections.discard(conn)
        devices = self._users.get((conn.app, conn.user))
        if devices is not None:
            devices.discard(conn)
            if not devices:
                del self._users[(conn.app, conn.user)]
                self.control_seen.pop((conn.app, conn.user), None)
        channels = [user_channel(conn.app, conn.user), control_channel(conn.app, conn.user)]
        channels += [conv_channel(conn.app, c) for c in conn.convs]
        channels += [presence_channel(conn.app, u) for u in conn.presence_subs]
        self.detach(conn, channels)

    def devices(self, app: str, user: str) -> set[Connection]:
        """The user's authenticated connections on this node (do not modify)."""
        return self._users.get((app, user), set())

    async def attach(self, conn: Connection, channels: Iterable[str]) -> None:
        """Deliver ``channels`` to ``conn``; subscribes the broker to those new to this node."""
        new = self._add(conn, channels)
        if new:
            await self._subscribe(new)

    def _add(self, conn: Connection, channels: Iterable[str]) -> list[str]:
        """Make ``conn`` a local subscriber of ``channels`` now; returns those new to this node
        (the broker is not yet subscribed to them)."""
        new = []
        for channel in channels:
            subscribers = self._subs.get(channel)
            if subscribers is None:
                self._subs[channel] = {conn}
                self._pending_unsub.discard(channel)
                new.append(channel)
            else:
                subscribers.add(conn)
        return new

    async def _resync_after(self, conn: Connection, subscribing: asyncio.Task[None], conv: str) -> None:
        """Once the broker subscription of a conversation ``conn`` just joined is in place, have
        it resync the conversation: what was published before (a campaign's first message, sent
        right after its conversation was made) never reached this node."""
        with contextlib.suppress(Exception):  # a failed subscribe is the broker's gap to report
            await asyncio.shield(subscribing)
        if not conn.lost and conv in conn.convs:
            conn.push(encode(frames.Resync(convs=[conv])))

    async def _subscribe(self, channels: list[str]) -> None:
        """Coalesce concurrent subscribes (a reconnect storm) into one broker call per round."""
        await self._subscribes.submit(channels)

    async def _subscribe_batch(self, batches: Sequence[list[str]]) -> list[None]:
        await self._broker.subscribe([channel for channels in batches for channel in channels])
        return [None] * len(batches)

    def detach(self, conn: Connection, channels: Iterable[str]) -> None:
        """Stop delivering ``channels`` to ``conn``; the last local subscriber's leaving unsubscribes."""
        for channel in channels:
            subscribers = self._subs.get(channel)
            if subscribers is None:
                continue
            subscribers.discard(conn)
            if not subscribers:
                del self._subs[channel]
                self._pending_unsub.add(channel)
        if self._pending_unsub and self._unsub_task is None:
            self._unsub_task = asyncio.create_task(self._unsubscribe())

    async def _unsubscribe(self) -> None:
        # Batched and off the disconnect path: one UNSUBSCRIBE for many channels.
        try:
            while self._pending_unsub:
                channels, self._pending_unsub = self._pending_unsub, set()
                try:
                    await self._broker.unsubscribe(channels)
                except Exception:
                    log.warning("unsubscribe of %d channels failed", len(channels))
        finally:
            self._unsub_task = None

    async def join(self, conn: Connection, conv: str) -> None:
        """``conn``'s user joined ``conv``: cache the membership and deliver its channel."""
        # A connection that is gone (or not registered yet) must not pin a subscription.
        if conv not in conn.convs and conn in self.connections:
            conn.convs.add(conv)
            await self.attach(conn, [conv_channel(conn.app, conv)])

    # ------------------------------------------------------------- delivery
    def on_message(self, channel: str, data: bytes) -> None:
        """Broker handler: push ``data`` to every local subscriber of ``channel``."""
        if channel.startswith("m:"):
            self._on_control(data)
            return
        if channel == self.probe_channel:
            waiter = self._probes.pop(data, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        sender = self._echoes.take(data)
        subscribers = self._subs.get(channel)
        if not subscribers:
            return
        framed = binary_frame(data)  # once for all recipients, not once per socket
        count = len(subscribers)
        # A byte search, no decode: only a frame that may carry a campaign marker lists its receivers.
        marked: list[tuple[str, str]] | None = (
            [] if self.on_marketing is not None and MARKER_BYTES in data else None
        )
        for conn in subscribers:
            if conn is sender:
                count -= 1
            elif conn.push(data, framed) and marked is not None:
                marked.append((conn.app, conn.user))
        if marked and self.on_marketing is not None:
            self.on_marketing(data, marked)
        self.deliveries += count
        self._count_out(data, count)

    def _count_out(self, data: bytes, count: int) -> None:
        kind = peek_type(data)
        child = self._out_by_type.get(kind)
        if child is None:
            child = self._out_by_type[kind] = self._metrics.frames_out.labels(kind)
        child.inc(count)
        self._metrics.deliveries.inc(count)
        if kind == "msg":
            self._sample += 1
            if self._sample & 7 == 0:  # decoding every message would cost more than it tells
                try:
                    accepted = _msg_decoder.decode(data).m.ts
                except Exception:
                    return
                self._metrics.send_to_deliver.observe(max(0.0, (now_ms() - accepted) / 1000))

    async def probe(self, timeout: float) -> bool:
        """Publish a nonce on this node's probe channel and wait for it to come back."""
        nonce = secrets.token_bytes(8)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._probes[nonce] = waiter
        try:
            self._broker.publish(self.probe_channel, nonce)
            await asyncio.wait_for(waiter, timeout)
            return True
        except (TimeoutError, Exception):
            return False
        finally:
            self._probes.pop(nonce, None)

    async def resubscribe(self) -> None:
        """Subscribe every channel again (after a probe found the subscription silently dead)."""
        channels = [*self._subs, self.probe_channel]
        await self._broker.unsubscribe(channels)
        await self._broker.subscribe(channels)

    def _joined(self, conn: Connection, channel: str, conv: str) -> None:
        loop = asyncio.get_running_loop()
        if self._add(conn, [channel]):
            subscribing = loop.create_task(self._subscribe([channel]))
            self._subscribing[channel] = subscribing
            self._track(subscribing)
            subscribing.add_done_callback(lambda _t: self._subscribing.pop(channel, None))
        subscribing_now = self._subscribing.get(channel)
        if subscribing_now is not None:  # this device could miss what is published meanwhile
            self._track(loop.create_task(self._resync_after(conn, subscribing_now, conv)))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_control(self, data: bytes) -> None:
        try:
            control = decode_control(data)
        except Exception:
            log.warning("undecodable control event dropped")
            return
        key = (control.app, control.user)
        if key not in self._users:
            return
        self.control_seen[key] = self.control_seen.get(key, 0) + 1
        if control.op == "sync" and self.on_sync is not None:
            self.on_sync(control.app, control.user)
        if control.op not in ("join", "leave"):
            for conn in list(self.devices(control.app, control.user)):
                enforce.apply(self, conn, control)
            return
        channel = conv_channel(control.app, control.conv)
        for conn in list(self.devices(control.app, control.user)):
            if control.op == "join":
                if control.conv not in conn.convs:
                    conn.convs.add(control.conv)
                    # A subscriber at once (a message the node already receives is not missed);
                    # a channel new to this node is subscribed in the background, then resynced.
                    self._joined(conn, channel, control.conv)
            elif control.conv in conn.convs:
                conn.convs.discard(control.conv)
                conn.cleared.discard(control.conv)
                self.detach(conn, [channel])
            conn.push(control.frame)
