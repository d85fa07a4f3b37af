"""The WebSocket endpoint: handshake, authentication, then the read loop.

Lifecycle of a connection: accept → ``hello`` within ``auth_timeout`` (frames
before it get ``not_authenticated``) → version and token checked → the
connection is registered with the hub (its user, control and conversation
channels subscribed) → ``welcome`` → frames are decoded and routed until the
socket closes. Writing happens only in the connection's writer task.

This is a raw ASGI handler, mounted in front of the Starlette app (see
:mod:`parley.server.app`): frames go straight to the server's ``send`` without
Starlette's per-message wrappers, which matters on the fan-out path where every
recipient's frame is one ``send``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.types import Receive, Scope, Send

from parley.proto import ClientDecoder, encode, frames
from parley.proto.errors import CloseCode, ErrorCode, FrameError
from parley.server.errors import ServiceError
from parley.server.gateway.connection import Connection
from parley.server.gateway.router import error_frame
from parley.server.ids import now_ms
from parley.server.ports import StoreUnavailable

if TYPE_CHECKING:
    from parley.server.node import Node

__all__ = ["serve_websocket"]

log = logging.getLogger("parley.gateway")


def _origin(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            return str(value.decode("latin-1"))
    return None


async def serve_websocket(node: Node, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one WebSocket connection (ASGI ``websocket`` scope) on ``node``."""
    settings = node.settings
    if (await receive())["type"] != "websocket.connect":
        return
    if settings.allowed_origins:
        origin = _origin(scope)
        if origin is not None and origin not in settings.allowed_origins:
            await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})
            return
    if node.draining:
        await send({"type": "websocket.close", "code": CloseCode.SERVICE_RESTART, "reason": "shutting down"})
        return
    await send({"type": "websocket.accept"})

    async def send_bytes(data: bytes) -> None:
        await send({"type": "websocket.send", "bytes": data})

    conn = Connection(
        "k" + secrets.token_hex(6),
        send_bytes,
        _closer(send),
        max_queue=settings.outbound_queue,
        on_overflow=node.metrics.slow_consumers.inc,
    )
    conn.abort = _aborter()
    node.pending.add(conn)
    try:
        await _serve(node, receive, conn, node.decoder)
    except asyncio.CancelledError:
        if not conn.aborted:
            raise
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
    finally:
        node.pending.discard(conn)
        await node.forget(conn)
        if conn.authenticated:
            code = conn.close_code[0] if conn.close_code else None
            log.info("disconnected", extra={"conn": conn.id, "app": conn.app, "close_code": code})


def _aborter() -> Callable[[], None]:
    task = asyncio.current_task()

    def abort() -> None:
        if task is not None:
            task.cancel()

    return abort


def _closer(send: Send) -> Callable[[int, str], Awaitable[None]]:
    async def close(code: int, reason: str) -> None:
        try:
            await send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:
            pass  # already closed by the peer

    return close


async def _serve(node: Node, receive: Receive, conn: Connection, decoder: ClientDecoder) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        conn.last_seen = time.monotonic()
        if data is None:
            node.router.error(conn, ErrorCode.BAD_FRAME, "frames are binary MessagePack, not text")
            continue
        try:
            frame = decoder.decode(data)
        except FrameError as exc:
            node.router.error(conn, exc.code, exc.message, exc.request_id)
            continue
        node.count_in(frame)
        if conn.authenticated:
            if _rate_limited(node, conn, frame):
                continue
            await node.router.route(conn, frame)
        elif isinstance(frame, frames.Hello):
            if not await _authenticate(node, conn, frame):
                return
        else:
            request_id = getattr(frame, "id", None)
            node.router.error(
                conn, ErrorCode.NOT_AUTHENTICATED, "send 'hello' with a token first", request_id
            )


def _rate_limited(node: Node, conn: Connection, frame: object) -> bool:
    """Refuse a frame over the connection's (or, for sends, the user's) rate; the connection stays."""
    scope = ""
    if conn.bucket is not None and not conn.bucket.take():
        scope, bucket = "connection", conn.bucket
    elif isinstance(frame, frames.Send):
        user_bucket = node.user_bucket(conn.app, conn.user)
        if user_bucket is not None and not user_bucket.take():
            scope, bucket = "user", user_bucket
    if not scope:
        return False
    node.metrics.rate_limited.labels(scope).inc()
    wait_ms = int(bucket.retry_after() * 1000) + 1
    message = f"{scope} rate limit exceeded; retry in {wait_ms} ms"
    node.router.error(conn, ErrorCode.RATE_LIMITED, message, getattr(frame, "id", None))
    return True


async def _authenticate(node: Node, conn: Connection, hello: frames.Hello) -> bool:
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
    services = node.services
    try:
        claims = await services.tokens.verify(hello.token)
        if len(node.hub.devices(claims.app, claims.user)) >= node.settings.max_connections_per_user:
            conn.push(error_frame(ErrorCode.LIMIT_EXCEEDED, "too many connections for this user"))
            conn.close(CloseCode.TOO_MANY_CONNECTIONS, "too many connections")
            return False
        conn.app, conn.user, conn.role, conn.device = claims.app, claims.user, claims.role, hello.device
        conn.bucket = node.connection_bucket()
        rows = await services.store.list_user_conversations(claims.app, claims.user)
        node.pending.discard(conn)
        await node.hub.register(conn, [c.conv for c, _ in rows])
        await services.presence.connected(conn.app, conn.user, conn.id)
    except ServiceError as exc:
        conn.app = conn.user = ""
        conn.push(error_frame(exc.code, exc.message))
        code = CloseCode.TOKEN_EXPIRED if exc.code is ErrorCode.TOKEN_EXPIRED else CloseCode.AUTH_FAILED
        conn.close(code, exc.message[:120])
        return False
    except StoreUnavailable:
        conn.push(error_frame(ErrorCode.UNAVAILABLE, "the store is unavailable; reconnect later"))
        conn.close(CloseCode.SERVICE_RESTART, "store unavailable")
        return False
    log.info("authenticated", extra={"conn": conn.id, "app": conn.app, "device": conn.device or None})
    conn.push(
        encode(
            frames.Welcome(
                v=hello.v,
                session=conn.id,
                app=conn.app,
                user=conn.user,
                node=node.settings.node_id,
                ts=now_ms(),
                heartbeat_ms=node.settings.heartbeat * 1000,
                max_frame=node.settings.max_frame,
            )
        )
    )
    return True
