"""What one connection's frames do: ``hello`` first, then routing, in arrival order.

Lifecycle: the transport accepts the socket → ``hello`` within ``auth_timeout``
(frames before it get ``not_authenticated``) → version and token checked → the
connection is registered with the hub (its user, control and conversation
channels subscribed) → ``welcome`` → frames are decoded and routed until the
socket closes → :meth:`ConnectionBook.forget` cleans up.

What a session may use is its node's :class:`~parley.server.gateway.context.GatewayContext`.

Frames are handled one at a time by a task that exists only while there is
something to handle. A ``send`` needs no such task: it already runs as a task
of its own (so pipelined sends share one group commit), so when nothing else
is waiting it is started straight from the transport's callback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from parley.proto import encode, frames
from parley.proto.errors import CloseCode, ErrorCode, FrameError
from parley.server.errors import ServerError, ServiceError, refusal
from parley.server.gateway.connection import Connection
from parley.server.gateway.context import GatewayContext
from parley.server.gateway.router import error_frame
from parley.server.ids import now_ms

__all__ = ["Session"]

log = logging.getLogger("parley.gateway")

#: Frames waiting to be handled before the socket stops being read (back-pressure on the client).
INBOX_LIMIT = 64


class Session:
    """One connection's frames, handled in arrival order (see the module doc)."""

    __slots__ = ("_inbox", "_set_reading", "_task", "conn", "ctx")

    def __init__(self, ctx: GatewayContext, conn: Connection, set_reading: Callable[[bool], None]) -> None:
        self.ctx = ctx
        self.conn = conn
        self._set_reading = set_reading
        self._inbox: deque[Any] = deque()
        self._task: asyncio.Task[None] | None = None
        ctx.book.opened(conn)

    # ---------------------------------------------------- from the transport
    def on_binary(self, data: bytes) -> None:
        """One binary message from the socket: decode it, then start or queue its handling."""
        ctx, conn = self.ctx, self.conn
        if conn.close_code is not None:
            return
        conn.last_seen = time.monotonic()
        try:
            frame = ctx.decoder.decode(data)
        except FrameError as exc:
            ctx.router.error(conn, exc.code, exc.message, exc.request_id)
            return
        ctx.counters.frame_in(frame)
        if self._task is None and conn.authenticated and type(frame) is frames.Send:
            if not _rate_limited(ctx, conn, frame):
                ctx.router.start_send(conn, frame)
            return
        self._inbox.append(frame)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._handle_inbox())
        elif len(self._inbox) == INBOX_LIMIT:
            self._set_reading(False)

    def on_text(self) -> None:
        """A text message: refused (frames are binary), the connection stays."""
        self.conn.last_seen = time.monotonic()
        self.ctx.router.error(self.conn, ErrorCode.BAD_FRAME, "frames are binary MessagePack, not text")

    def connection_lost(self) -> None:
        """The socket is gone: clean up once the frame being handled (if any) is done."""
        self.conn.connection_lost()
        self._inbox.clear()
        if self._task is None:
            self._forget()
        else:
            self._task.add_done_callback(lambda _: self._forget())

    # --------------------------------------------------------------- handling
    async def _handle_inbox(self) -> None:
        ctx, conn, inbox = self.ctx, self.conn, self._inbox
        try:
            while inbox:
                frame = inbox.popleft()
                if len(inbox) == INBOX_LIMIT - 1:
                    self._set_reading(True)
                if conn.close_code is not None:
                    inbox.clear()
                elif conn.authenticated:
                    if not _rate_limited(ctx, conn, frame):
                        await ctx.router.route(conn, frame)
                elif isinstance(frame, frames.Hello):
                    await _authenticate(ctx, conn, frame)
                else:
                    request_id = getattr(frame, "id", None)
                    ctx.router.error(
                        conn, ErrorCode.NOT_AUTHENTICATED, "send 'hello' with a token first", request_id
                    )
        finally:
            self._task = None

    def _forget(self) -> None:
        conn = self.conn
        self.ctx.book.closed(conn)
        if conn.authenticated:
            code = conn.close_code[0] if conn.close_code else None
            log.info("disconnected", extra={"conn": conn.id, "app": conn.app, "close_code": code})


#: The close that follows a refused ``hello`` (any other refusal: 4001).
_AUTH_CLOSE = {
    ErrorCode.TOKEN_EXPIRED: CloseCode.TOKEN_EXPIRED,
    ErrorCode.USER_DISABLED: CloseCode.USER_DISABLED,
    ErrorCode.TOKEN_REVOKED: CloseCode.TOKEN_REVOKED,
}


def _rate_limited(ctx: GatewayContext, conn: Connection, frame: object) -> bool:
    """Refuse a frame over the connection's (or, for sends, the user's) rate; the connection stays."""
    scope = ""
    if conn.bucket is not None and not conn.bucket.take():
        scope, bucket = "connection", conn.bucket
    elif isinstance(frame, frames.Send):
        user_bucket = ctx.rates.user_bucket(conn.app, conn.user)
        if user_bucket is not None and not user_bucket.take():
            scope, bucket = "user", user_bucket
    elif isinstance(frame, (frames.Typing, frames.Draft)):
        # Each is fanned out to every member: limited per user like sends, in its own budget.
        user_bucket = ctx.rates.ephemeral_bucket(conn.app, conn.user)
        if user_bucket is not None and not user_bucket.take():
            scope, bucket = "ephemeral", user_bucket
    if not scope:
        return False
    ctx.counters.rate_limited(scope)
    wait_ms = int(bucket.retry_after() * 1000) + 1
    message = f"{scope} rate limit exceeded; retry in {wait_ms} ms"
    ctx.router.error(conn, ErrorCode.RATE_LIMITED, message, getattr(frame, "id", None))
    return True


async def _authenticate(ctx: GatewayContext, conn: Connection, hello: frames.Hello) -> bool:
    """Check version and token, register the connection, send ``welcome``. False closes it."""
    if hello.v not in frames.SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, sorted(frames.SUPPORTED_VERSIONS)))
        conn.push(
            error_frame(
                ErrorCode.UNSUPPORTED_VERSION,
                f"protocol v{hello.v} unsupported; this server speaks {supported}",
            )
        )
        conn.close(CloseCode.UNSUPPORTED_VERSION, "unsupported protocol version")
        return False
    try:
        claims = await ctx.tokens.verify(hello.token)
        if len(ctx.hub.devices(claims.app, claims.user)) >= ctx.limits.max_connections_per_user:
            conn.push(error_frame(ErrorCode.LIMIT_EXCEEDED, "too many connections for this user"))
            conn.close(CloseCode.TOO_MANY_CONNECTIONS, "too many connections")
            return False
        convs = await ctx.memberships(claims.app, claims.user)
        if conn.lost:
            return False  # gone while we read the store: nothing to register
        conn.app, conn.user, conn.role, conn.device = claims.app, claims.user, claims.role, hello.device
        conn.iat = claims.iat
        conn.bucket = ctx.rates.connection_bucket()
        ctx.book.authenticated(conn)
        await ctx.hub.register(conn, convs)
        await ctx.presence.connected(conn.app, conn.user, conn.id)
    except ServerError as exc:
        conn.app = conn.user = ""
        refused = refusal(exc)
        conn.push(error_frame(refused.code, refused.message))
        if isinstance(exc, ServiceError):  # the client must not simply retry this hello
            conn.close(_AUTH_CLOSE.get(exc.code, CloseCode.AUTH_FAILED), exc.message[:120])
        else:  # a dependency failed: reconnect (to this or another node) later
            conn.close(CloseCode.SERVICE_RESTART, refused.message[:120])
        return False
    log.info("authenticated", extra={"conn": conn.id, "app": conn.app, "device": conn.device or None})
    conn.push(
        encode(
            frames.Welcome(
                v=hello.v,
                session=conn.id,
                app=conn.app,
                user=conn.user,
                node=ctx.limits.node_id,
                ts=now_ms(),
                heartbeat_ms=ctx.limits.heartbeat * 1000,
                max_frame=ctx.limits.max_frame,
            )
        )
    )
    return True
