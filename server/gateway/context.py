"""What the gateway's per-connection objects may use, handed to them by the composition root.

A socket's :class:`~parley.server.gateway.transport.GatewayProtocol` and its
:class:`~parley.server.gateway.session.Session` see one :class:`GatewayContext`, built once
per node by ``node.py``: small typed parts, each holding only what a connection needs —
never the :class:`~parley.server.node.Node` itself, so what a connection can reach is
written here, not discovered by reaching through the node.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from parley.proto import ClientDecoder
from parley.server.auth.tokens import TokenVerifier
from parley.server.gateway.connection import Connection
from parley.server.gateway.hub import Hub
from parley.server.gateway.limits import TokenBucket
from parley.server.gateway.outbound import OutboundLedger
from parley.server.gateway.router import Router
from parley.server.metrics import Metrics
from parley.server.services.presence import PresenceService
from parley.server.settings import Settings

__all__ = ["ConnectionBook", "GatewayContext", "GatewayCounters", "RateLimits", "SessionLimits"]

log = logging.getLogger("parley.gateway")

#: A user's conversation ids (read once when a connection authenticates).
Memberships = Callable[[str, str], Awaitable[Collection[str]]]


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """The settings a connection reads (see :class:`~parley.server.settings.Settings`)."""

    node_id: str
    heartbeat: int
    max_frame: int
    max_connections_per_user: int
    outbound_queue: int
    outbound_queue_bytes: int
    allowed_origins: tuple[str, ...]

    @classmethod
    def of(cls, s: Settings) -> SessionLimits:
        """The connection's part of ``s``."""
        return cls(
            s.node_id,
            s.heartbeat,
            s.max_frame,
            s.max_connections_per_user,
            s.outbound_queue,
            s.outbound_queue_bytes,
            tuple(s.allowed_origins),
        )


class RateLimits:
    """The token buckets of this node: one per connection (every frame), and per user on this
    node (sends; typing and drafts in their own budget), shared by the user's connections here."""

    def __init__(self, settings: Settings) -> None:
        s = settings
        self._frames = (s.rate_frames, s.rate_frames_burst)
        self._sends = (s.rate_sends, s.rate_sends_burst)
        self._ephemeral = (s.rate_ephemeral, s.rate_ephemeral_burst)
        #: Send rate limits per (app, user).
        self.users: dict[tuple[str, str], TokenBucket] = {}
        #: Typing and draft rate limits per (app, user).
        self.ephemeral: dict[tuple[str, str], TokenBucket] = {}

    def connection_bucket(self) -> TokenBucket | None:
        """A new connection's bucket, or None when frames are not limited."""
        rate, burst = self._frames
        return TokenBucket(rate, burst) if rate > 0 else None

    def user_bucket(self, app: str, user: str) -> TokenBucket | None:
        """The user's send bucket, or None when sends are not limited."""
        return _bucket(self.users, (app, user), self._sends)

    def ephemeral_bucket(self, app: str, user: str) -> TokenBucket | None:
        """The user's bucket for ``typing`` and ``draft`` frames (fanned out to every member)."""
        return _bucket(self.ephemeral, (app, user), self._ephemeral)

    def prune(self, online: Callable[[str, str], bool]) -> None:
        """Drop the buckets of users with no connection here any more (the sweeper's job)."""
        for buckets in (self.users, self.ephemeral):
            for key in [k for k in buckets if not online(*k)]:
                del buckets[key]


def _bucket(
    buckets: dict[tuple[str, str], TokenBucket], key: tuple[str, str], rate: tuple[float, float]
) -> TokenBucket | None:
    if rate[0] <= 0:
        return None
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = TokenBucket(*rate)
    return bucket


class GatewayCounters:
    """The connection path's counters (plain ints read at scrape time: no lock per frame)."""

    __slots__ = ("_in_by_type", "_metrics")

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._in_by_type: dict[type, Any] = {}

    def frame_in(self, frame: Any) -> None:
        """Count one decoded client frame by its type."""
        kind = type(frame)
        child = self._in_by_type.get(kind)
        if child is None:
            child = self._in_by_type[kind] = self._metrics.frames_in.labels(frame.__struct_config__.tag)
        child.inc()

    def rate_limited(self, scope: str) -> None:
        """A frame was refused over the ``scope`` rate (connection, user, ephemeral)."""
        self._metrics.rate_limited.labels(scope).inc()

    def slow_consumer(self) -> None:
        """A connection overflowed its outbound queue and is being dropped."""
        self._metrics.slow_consumers.inc()


class ConnectionBook:
    """This node's connections outside the hub: those that have not said ``hello`` yet, and
    the clean-ups of closed ones still running; whether the node is draining."""

    def __init__(self, hub: Hub, presence: PresenceService) -> None:
        self._hub = hub
        self._presence = presence
        #: Connections that have not sent ``hello`` yet.
        self.pending: set[Connection] = set()
        #: Clean-ups of closed connections still running.
        self.background: set[asyncio.Task[None]] = set()
        #: True once the node stopped accepting (new sockets are refused with 503).
        self.draining = False

    def opened(self, conn: Connection) -> None:
        """A socket was accepted: it has ``auth_timeout`` to say ``hello``."""
        self.pending.add(conn)

    def authenticated(self, conn: Connection) -> None:
        """``conn`` said a valid ``hello``: the hub has it now."""
        self.pending.discard(conn)

    def closed(self, conn: Connection) -> None:
        """The socket is gone: forget it in the background (the node waits for these on stop)."""
        self.pending.discard(conn)
        task = asyncio.get_running_loop().create_task(self.forget(conn))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def forget(self, conn: Connection) -> None:
        """Clean up after a connection ended, whoever ended it."""
        if conn.authenticated:
            self._hub.unregister(conn)
            try:
                await self._presence.disconnected(conn.app, conn.user, conn.id)
            except Exception:
                log.warning("presence of %s not cleared", conn.id)


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """Everything a connection uses (see the module doc); one per node."""

    limits: SessionLimits
    decoder: ClientDecoder
    router: Router
    hub: Hub
    tokens: TokenVerifier
    presence: PresenceService
    #: The user's conversation ids, read when it authenticates.
    memberships: Memberships
    rates: RateLimits
    counters: GatewayCounters
    book: ConnectionBook
    outbound: OutboundLedger
