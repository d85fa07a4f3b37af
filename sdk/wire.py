"""One WebSocket of a session: opening it, reading it, keeping it alive.

:func:`handshake` turns every way the opening can end into one of three outcomes
the connection's supervisor acts on: a ``welcome`` (go on and resume), a
:class:`~parley.sdk.errors.ConnectionClosed` (try again after a backoff; a
:class:`StaleToken` also asks for a fresh token first) or a :class:`Fatal`
(stop for good: retrying could not help). :func:`read_loop` and
:func:`ping_loop` run for as long as that socket is open and end quietly when
it closes; the supervisor learns of the close from the read loop ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import websockets
from websockets.asyncio.client import ClientConnection

from parley.proto import frames as f
from parley.proto.codec import ServerDecoder, encode
from parley.proto.errors import Action, ErrorCode, FrameError
from parley.sdk.errors import ConnectionClosed, ReplyError
from parley.sdk.router import FrameRouter

__all__ = ["Fatal", "StaleToken", "as_bytes", "handshake", "ping_loop", "read_loop"]


class Fatal(Exception):
    """The session cannot go on: ``error`` is what the client closes with, ``code`` the close code."""

    def __init__(self, error: BaseException, code: int | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.code = code


class StaleToken(ConnectionClosed):
    """The server refused the token as expired or revoked and a fresh one can be fetched."""


async def handshake(
    url: str, hello: f.Hello, timeout: float, decoder: ServerDecoder, can_refresh: bool
) -> tuple[ClientConnection, f.Welcome]:
    """Open a WebSocket to ``url``, send ``hello`` and return the socket with its ``welcome``.

    The whole exchange is bounded by ``timeout``. On any outcome but ``welcome`` the
    socket is closed before this raises: :class:`StaleToken` when the token was refused
    as expired/revoked and ``can_refresh``, :class:`ConnectionClosed` when the refusal's
    action is to retry (or the server answered with something else), :class:`Fatal`
    otherwise.
    """
    ws = await websockets.connect(url, open_timeout=timeout, max_size=decoder.max_frame, compression=None)
    try:
        await ws.send(encode(hello))
        async with asyncio.timeout(timeout):
            frame = decoder.decode(as_bytes(await ws.recv()))
    except BaseException:
        await ws.close()
        raise
    if isinstance(frame, f.Welcome):
        return ws, frame
    await ws.close()
    if isinstance(frame, f.Error):
        error = ReplyError(frame.code, frame.message, frame.action)
        if error.code in (ErrorCode.TOKEN_EXPIRED, ErrorCode.TOKEN_REVOKED) and can_refresh:
            raise StaleToken(error.code.replace("_", " "))
        if error.action is Action.RETRY:
            raise ConnectionClosed(str(error))
        raise Fatal(error, ws.close_code)
    raise ConnectionClosed(f"expected welcome, got {type(frame).__name__}")


async def read_loop(ws: ClientConnection, decoder: ServerDecoder, router: FrameRouter) -> None:
    """Decode every frame from ``ws`` and hand it to ``router`` until the socket closes.

    A frame that does not decode is reported through the router and skipped: one bad
    frame never ends the session.
    """
    with contextlib.suppress(websockets.ConnectionClosed):
        async for data in ws:
            try:
                frame = decoder.decode(as_bytes(data))
            except FrameError as exc:
                router.undecodable(exc, as_bytes(data))
                continue
            router.dispatch(frame)


async def ping_loop(ws: ClientConnection, welcome: f.Welcome | None) -> None:
    """Send ``ping`` every ``heartbeat_ms`` the server asked for in ``welcome`` until ``ws`` closes.

    Returns at once when the server asked for no heartbeat (0 or no ``welcome``).
    """
    interval = welcome.heartbeat_ms / 1000 if welcome and welcome.heartbeat_ms > 0 else 0
    if not interval:
        return
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await asyncio.sleep(interval)
            await ws.send(encode(f.Ping(ts=int(time.time() * 1000))))


def as_bytes(data: str | bytes) -> bytes:
    """A WebSocket message as bytes (a text message is encoded as UTF-8)."""
    return data.encode() if isinstance(data, str) else data
