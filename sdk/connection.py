"""The transport: one logical session kept alive over successive WebSockets.

:class:`Connection` owns the socket, the read loop and the reconnect loop.
Per WebSocket it does: ``hello`` → ``welcome``; ``sync`` of every known
position (refilling missed messages); re-subscription to presence; resend of
every unacked send with its original cmid; only then is the client
``connected`` and new requests go out. The read loop decodes frames, matches
replies to requests, merges messages through :class:`~parley.sdk.streams.Streams`
and publishes events with ``put_nowait`` — it never awaits application code.

Opening, reading and pinging one WebSocket are in :mod:`parley.sdk.wire`; the
``sync`` rounds of a resume and of gap filling are in :mod:`parley.sdk.catchup`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from parley.proto import frames as f
from parley.proto.backoff import Backoff
from parley.proto.codec import ServerDecoder, encode
from parley.proto.errors import Action, CloseCode, ErrorCode, FrameError
from parley.sdk.catchup import CatchUp
from parley.sdk.dispatch import EventHub
from parley.sdk.errors import ClientClosed, ConnectionClosed, ReplyError, RequestTimeout
from parley.sdk.events import ClientState, ConnectionStateEvent
from parley.sdk.outbox import Outbox, OutboxEntry
from parley.sdk.policy import should_reconnect, token_expiry
from parley.sdk.requests import PendingRequests, Reply
from parley.sdk.router import FrameRouter
from parley.sdk.streams import Streams
from parley.sdk.wire import Fatal, StaleToken, handshake, ping_loop, read_loop

__all__ = ["Connection", "TokenSource"]

log = logging.getLogger("parley.sdk")

#: An async callable returning a fresh token.
TokenSource = Callable[[], Awaitable[str]]

_REFRESH_MARGIN = 30.0
#: Seconds an own message (known from its ack) may wait for earlier messages of others
#: still on their way through the broker before the gap is synced.
OWN_GAP_GRACE = 0.5


class _Lost(ConnectionClosed):
    """Internal: the WebSocket under a request went away (the client reconnects)."""


class Connection:
    """Drives the session: connect, resume, read, reconnect with backoff, close."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        get_token: TokenSource | None,
        device: str,
        client_name: str,
        backoff: Backoff,
        request_timeout: float,
        hub: EventHub,
        streams: Streams,
        outbox: Outbox,
    ) -> None:
        self.url = url
        self.token = token
        self._get_token = get_token
        self._device = device
        self._client_name = client_name
        self._backoff = backoff
        self.request_timeout = request_timeout
        self._hub = hub
        self.streams = streams
        self.outbox = outbox
        self.requests = PendingRequests()
        self.state = ClientState.DISCONNECTED
        self.welcome: f.Welcome | None = None
        self.presence: set[str] = set()
        self._ws: ClientConnection | None = None
        self._ready = asyncio.Event()
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._refresh = False
        #: True when this side closed the WebSocket to reconnect (its close code says nothing).
        self._closing_to_reconnect = False
        self._bye_ms: int | None = None
        self.final_error: ClientClosed | None = None
        self._decoder = ServerDecoder()
        self._router = FrameRouter(hub, streams, outbox, self.requests, self)
        self._catchup = CatchUp(
            streams=streams,
            hub=hub,
            deliver=self._router.deliver,
            request_on=self.request_on,
            timeout=lambda: self.request_timeout,
            live=lambda: self._ws if self._ready.is_set() else None,
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the supervisor task (idempotent)."""
        if self._task is None and self.state is not ClientState.CLOSED:
            self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def wait_settled(self) -> None:
        """Wait until connected, or closed for good."""
        ready = asyncio.ensure_future(self._ready.wait())
        done = asyncio.ensure_future(self._done.wait())
        try:
            await asyncio.wait({ready, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            done.cancel()

    async def close(self, error: ClientClosed | None = None) -> None:
        """Stop for good: close the socket, fail pending work, end event streams."""
        if self.state is ClientState.CLOSED:
            return
        self.final_error = error or ClientClosed()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._catchup.cancel()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        self._lost(self.final_error)
        self.outbox.fail_all(self.final_error)
        err = self.final_error
        self._set_state(ClientState.CLOSED, code=err.code, reason=err.reason, error=err.error)
        self._done.set()

    async def drop(self) -> None:
        """Abort the current WebSocket without a close handshake, as a network failure would."""
        if self._ws is not None:
            self._ws.transport.abort()

    def _set_state(
        self,
        state: ClientState,
        *,
        code: int | None = None,
        reason: str = "",
        error: BaseException | None = None,
    ) -> None:
        if state is self.state:
            return
        previous, self.state = self.state, state
        self._hub.publish(ConnectionStateEvent(state, previous, code, reason, error))

    # ---------------------------------------------------------------- supervisor

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            self._set_state(ClientState.CONNECTING)
            code: int | None = None
            reason = ""
            self._closing_to_reconnect = False
            try:
                ws = await self._open()
            except Fatal as fatal:
                await self._fail(fatal)
                return
            except (
                OSError,
                TimeoutError,
                websockets.WebSocketException,
                ConnectionClosed,
                FrameError,
            ) as exc:
                reason = f"connect failed: {exc!r}"
                log.info("parley: %s", reason)
            else:
                self._ws = ws
                reader = self._reader = asyncio.get_running_loop().create_task(
                    read_loop(ws, self._decoder, self._router)
                )
                pinger = asyncio.get_running_loop().create_task(ping_loop(ws, self.welcome))
                try:
                    await self._resume(ws)
                    attempt = 0
                    self._ready.set()
                    self._set_state(ClientState.CONNECTED)
                    await asyncio.shield(reader)
                except (ConnectionClosed, RequestTimeout, ReplyError) as exc:
                    log.info("parley: resume failed: %r", exc)
                    self._closing_to_reconnect = True
                    with contextlib.suppress(Exception):
                        await ws.close()
                finally:
                    pinger.cancel()
                code, reason = ws.close_code, ws.close_reason or ""
                with contextlib.suppress(BaseException):
                    await reader
                self._lost(_Lost("connection lost", code))
                if not self._closing_to_reconnect and not should_reconnect(code):
                    await self._fail(
                        Fatal(ClientClosed(f"server closed the connection: {reason}", code), code)
                    )
                    return
                if code in (CloseCode.TOKEN_EXPIRED, CloseCode.TOKEN_REVOKED):
                    self._refresh = True
                self._set_state(ClientState.CONNECTING, code=code, reason=reason)
            delay = self._backoff.delay(attempt)
            if self._bye_ms is not None:
                delay, self._bye_ms = self._bye_ms / 1000, None
            attempt += 1
            await asyncio.sleep(delay)

    async def _fail(self, fatal: Fatal) -> None:
        error = fatal.error
        closed = error if isinstance(error, ClientClosed) else ClientClosed(str(error), fatal.code, error)
        self._task = None
        await self.close(closed)

    def _lost(self, exc: ConnectionClosed) -> None:
        self._ready.clear()
        self._ws = None
        self.requests.fail_all(exc)
        self.outbox.connection_lost()

    async def _token(self) -> str:
        if self._get_token is not None:
            exp = token_expiry(self.token)
            stale = exp is not None and exp - time.time() < _REFRESH_MARGIN
            if self._refresh or not self.token or stale:
                self.token = await self._get_token()
                self._refresh = False
        if not self.token:
            raise Fatal(ClientClosed("no token and no get_token callback"))
        return self.token

    async def _open(self) -> ClientConnection:
        try:
            token = await self._token()
        except Fatal:
            raise
        except Exception as exc:  # the app's callback failed; retry later
            raise ConnectionClosed(f"get_token failed: {exc!r}") from exc
        hello = f.Hello(v=f.PROTOCOL_VERSION, token=token, device=self._device, client=self._client_name)
        refreshable = self._get_token is not None
        try:
            ws, self.welcome = await handshake(
                self.url, hello, self.request_timeout, self._decoder, refreshable
            )
        except StaleToken:
            self._refresh = True
            raise
        return ws

    async def _resume(self, ws: ClientConnection) -> None:
        """After ``welcome``: sync, re-subscribe presence, resend the outbox."""
        self._catchup.forget_wanted()
        self.streams.strict = self.streams.baseline
        try:
            await self._catchup.run(ws, None)
        finally:
            self.streams.strict = False
        if self.presence:
            users = sorted(self.presence)
            try:
                await self.request_on(
                    ws, lambda rid: f.PresenceSub(id=rid, users=users), self.request_timeout
                )
            except ReplyError as exc:  # no longer allowed: dropped rather than failing every reconnect
                log.warning("presence re-subscription refused (%s); dropped", exc.code)
                self.presence.clear()
        for entry in self.outbox.resendable():
            await self._transmit(ws, entry)

    # ------------------------------------------------------------------- syncing

    def on_bye(self, bye: f.Bye) -> None:
        """Router hook: reconnect after the delay the server asked for."""
        self._bye_ms = bye.reconnect_ms

    def on_connection_error(self, error: f.Error) -> None:
        """Router hook: remember to refresh the token if it expired."""
        if error.code == ErrorCode.TOKEN_EXPIRED:
            self._refresh = True

    @property
    def user(self) -> str:
        """Router hook: the authenticated user id ("" before the first welcome)."""
        return self.welcome.user if self.welcome is not None else ""

    def sync_if_still_held(self, conv: str) -> None:
        """Router hook: an own message overtook others; sync only if they do not arrive soon."""
        self._catchup.want_if_still_held(conv, OWN_GAP_GRACE)

    def want_sync(self, conv: str) -> None:
        """Router hook: sync ``conv`` to fill a gap (now, or in the next resume)."""
        self._catchup.want(conv)

    # ------------------------------------------------------------------ requests

    async def wait_ready(self) -> ClientConnection:
        """The live WebSocket once the session is resumed; raises if the client closed."""
        while True:
            ws = self._ws
            if self._ready.is_set() and ws is not None:
                return ws
            if self.final_error is not None:
                raise self.final_error
            await self.wait_settled()

    async def request(self, build: Callable[[int], Any], *, idempotent: bool = True) -> Reply:
        """Send a request when connected and return its reply, retrying across reconnects.

        Non-idempotent requests raise :class:`ConnectionClosed` if the connection
        drops before the reply. The whole call is bounded by ``request_timeout``.
        """
        try:
            async with asyncio.timeout(self.request_timeout):
                while True:
                    ws = await self.wait_ready()
                    try:
                        return await self.request_on(ws, build, None)
                    except _Lost as exc:
                        if not idempotent:
                            raise ConnectionClosed("connection lost before the reply", exc.code) from None
                    except ReplyError as exc:
                        if exc.action is not Action.RECONNECT:
                            raise
                        await self.reconnect(refresh_token=exc.code == ErrorCode.TOKEN_EXPIRED)
                        if not idempotent:
                            raise
        except TimeoutError:
            raise RequestTimeout(f"no reply within {self.request_timeout} s") from None

    async def request_on(
        self, ws: ClientConnection, build: Callable[[int], Any], limit: float | None
    ) -> Reply:
        """Send one request on ``ws`` and wait for its reply (``error`` raises ReplyError)."""
        rid = self.requests.next_id()
        future = self.requests.register(rid)
        try:
            await ws.send(encode(build(rid)))
        except websockets.ConnectionClosed as exc:
            self.requests.discard(rid)
            raise _Lost("connection lost", exc.rcvd.code if exc.rcvd else None) from None
        try:
            async with asyncio.timeout(limit):
                return await future
        except TimeoutError:
            self.requests.discard(rid)
            raise RequestTimeout(f"no reply within {self.request_timeout} s") from None

    async def write(self, frame: Any) -> bool:
        """Send a fire-and-forget frame if connected; False if it was dropped."""
        ws = self._ws
        if ws is None or not self._ready.is_set():
            return False
        try:
            await ws.send(encode(frame))
        except websockets.ConnectionClosed:
            return False
        return True

    async def transmit(self, entry: OutboxEntry) -> None:
        """Put ``entry`` on the wire once connected (unless the resume already resent it)."""
        ws = await self.wait_ready()
        if entry.request_id is None and entry.waiter is not None and not entry.waiter.done():
            await self._transmit(ws, entry)

    async def _transmit(self, ws: ClientConnection, entry: OutboxEntry) -> None:
        rid = self.requests.next_id()
        self.outbox.transmitted(entry, rid)
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(encode(entry.frame(rid)))

    async def reconnect(self, *, refresh_token: bool = False) -> None:
        """Close the current WebSocket so the supervisor opens a new one."""
        self._refresh = self._refresh or refresh_token
        ws = self._ws
        if ws is not None:
            self._ready.clear()
            self._closing_to_reconnect = True
            await ws.close(CloseCode.SERVICE_RESTART, "client reconnect")
