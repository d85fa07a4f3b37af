"""The gateway's WebSocket transport: websockets' sans-I/O protocol under one asyncio Protocol.

A socket reaches :class:`GatewayProtocol` from the entry protocol (its request line is
``GET /ws``) or from uvicorn (``ws=``, an upgrade on a kept-alive HTTP connection). The
opening handshake takes the fast path of :mod:`~parley.server.gateway.handshake` when the
request is plainly valid, and websockets' own handshake otherwise (refusals, extension
negotiation). There is no ASGI layer and no task per connection on the message path: bytes
from the socket are parsed by :class:`websockets.server.ServerProtocol` and handed to the
connection's :class:`~parley.server.gateway.session.Session`; outgoing frames are written
synchronously to the transport (:class:`~parley.server.gateway.connection.Link`),
pre-framed once per fan-out when the client negotiated no extension.

Everything that is not ``/ws`` stays HTTP and goes to the Starlette app.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from websockets.exceptions import InvalidMessage
from websockets.extensions.base import ServerExtensionFactory
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from parley.proto.errors import CloseCode
from parley.server.gateway.connection import Connection
from parley.server.gateway.context import GatewayContext
from parley.server.gateway.deadline import HeadDeadline
from parley.server.gateway.handshake import MAX_HEAD, accept_fast
from parley.server.gateway.session import Session
from parley.server.gateway.wsframe import binary_frame

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

__all__ = ["GatewayProtocol", "gateway_protocol"]

log = logging.getLogger("parley.gateway")

#: Seconds to wait for the client's reply to our close frame before dropping the socket.
CLOSE_TIMEOUT = 5.0


def gateway_protocol(path: str, context: Callable[[], GatewayContext]) -> type[asyncio.Protocol]:
    """The class to give uvicorn as ``ws=``: WebSockets on ``path``, each socket served with
    ``context()`` — the running node's gateway context, which exists only once the app's
    lifespan has built the node (after uvicorn made this class)."""

    class BoundGatewayProtocol(GatewayProtocol):
        gateway_path = path
        context_of = staticmethod(context)
        flusher = WriteFlusher()

    return BoundGatewayProtocol


class WriteFlusher:
    """Coalesces the writes of one event-loop turn per socket: one ``send()`` per socket per
    turn, however many frames it got (acks, deliveries, a burst from the broker)."""

    __slots__ = ("_dirty", "_scheduled")

    def __init__(self) -> None:
        self._dirty: list[GatewayProtocol] = []
        self._scheduled = False

    def mark(self, protocol: GatewayProtocol) -> None:
        """Queue ``protocol`` for this turn's flush (one ``flush`` is scheduled per turn, not per mark)."""
        self._dirty.append(protocol)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send each marked socket's frames of this turn (``flush_out``), in the order they were marked."""
        self._scheduled = False
        dirty, self._dirty = self._dirty, []
        for protocol in dirty:
            protocol.flush_out()


class GatewayProtocol(asyncio.Protocol):
    """One upgraded socket: handshake, WebSocket frames in and out, closing handshake."""

    gateway_path = "/ws"
    context_of: Callable[[], GatewayContext]
    flusher: WriteFlusher
    #: Set by the entry protocol: disarmed once the handshake request is complete.
    head_deadline: HeadDeadline | None = None

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any]) -> None:
        self._extensions: list[ServerExtensionFactory] = []
        if config.ws_per_message_deflate:
            self._extensions = [
                ServerPerMessageDeflateFactory(
                    server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5}
                )
            ]
        self._max_size = config.ws_max_size
        #: The request head received so far; ``None`` once the handshake is decided and
        #: ``ws`` exists (fast path: created open; otherwise websockets reads the handshake).
        self._head: bytes | None = b""
        self.ws: ServerProtocol
        self._connections = server_state.connections
        self.transport: asyncio.Transport | None = None
        self.conn: Connection | None = None
        self.session: Session | None = None
        #: Frames go to the transport pre-framed (no extension negotiated).
        self._raw = True
        self._close_sent = False
        self._close_timer: asyncio.TimerHandle | None = None
        self._fragments: list[bytes] = []
        self._fragmented_text = False
        #: Frames written this loop turn, sent together by the flusher.
        self._out: list[bytes] | None = None

    # ------------------------------------------------------- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """asyncio: keep the transport and register with uvicorn, which shuts the socket down on exit."""
        self.transport = transport  # type: ignore[assignment]  # a stream transport
        self._connections.add(self)  # type: ignore[arg-type]  # uvicorn calls shutdown() on it

    def data_received(self, data: bytes) -> None:
        """asyncio: bytes from the socket. Before the handshake is decided they complete the request
        head; then websockets parses them and frames go to the session in arrival order.
        """
        if self._head is not None:
            self._handshake(self._head + data)
            return
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
            elif isinstance(event, Request):
                self._on_request(event)
        if self.conn is None and isinstance(ws.handshake_exc, InvalidMessage):
            self._refuse_unparsable(ws.handshake_exc)
            return
        self._send_protocol_output()

    def eof_received(self) -> bool | None:
        """asyncio: the peer closed its side; websockets finishes the close (None: the transport closes)."""
        if self._head is not None:
            return None  # no request: asyncio closes the transport
        self.ws.receive_eof()
        self._send_protocol_output()
        return None

    def pause_writing(self) -> None:
        """asyncio: the transport's buffer is full, so the connection queues (bounded) until resumed."""
        if self.conn is not None:
            self.conn.pause()

    def resume_writing(self) -> None:
        """asyncio: the transport drained; the connection flushes its queue."""
        if self.conn is not None:
            self.conn.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        """asyncio (once): the socket is gone; drop pending output and timers, end the session."""
        self._connections.discard(self)  # type: ignore[arg-type]
        if self.head_deadline is not None:
            self.head_deadline.disarm()
        self._out = None
        if self._close_timer is not None:
            self._close_timer.cancel()
        if self.session is not None:
            self.session.connection_lost()

    def shutdown(self) -> None:
        """uvicorn's shutdown, after the node drained: close whatever is still open."""
        if self.conn is not None and not self._close_sent and self.ws.state is State.OPEN:
            self.close(CloseCode.SERVICE_RESTART, "node shutting down")
        elif self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------ handshake
    def _handshake(self, buffer: bytes) -> None:
        end = buffer.find(b"\r\n\r\n")
        # A head ended by bare LFs is complete too: websockets refuses it (400) instead of waiting.
        if end < 0 and len(buffer) <= MAX_HEAD and b"\n\n" not in buffer:
            self._head = buffer
            return
        self._head = None
        if self.head_deadline is not None:
            # Dropped, not kept: a WebSocket has one head, and the deadline holds the transport
            # (a cycle the collector would have to find for every connection).
            self.head_deadline.disarm()
            self.head_deadline = None
        accepted = None
        if end >= 0 and end < MAX_HEAD:
            accepted = accept_fast(buffer, negotiate_extensions=bool(self._extensions))
        if accepted is not None and self._refusal(accepted.path, accepted.origin) is None:
            self.ws = ServerProtocol(state=State.OPEN, max_size=self._max_size)
            assert self.transport is not None
            self.transport.write(accepted.response)
            self._open()
            if accepted.rest:
                self.data_received(accepted.rest)
            return
        # Declined (or refused): websockets reads the request again and answers it.
        self.ws = ServerProtocol(extensions=self._extensions, max_size=self._max_size)
        self.data_received(buffer)

    def _refusal(self, path: str, origin: str | None) -> tuple[HTTPStatus, str] | None:
        ctx = self.context_of()
        if path.partition("?")[0] != self.gateway_path:
            return HTTPStatus.NOT_FOUND, f"WebSockets are served on {self.gateway_path}\n"
        allowed = ctx.limits.allowed_origins
        if allowed and origin is not None and origin not in allowed:
            return HTTPStatus.FORBIDDEN, "origin not allowed\n"
        if ctx.book.draining:
            return HTTPStatus.SERVICE_UNAVAILABLE, "node shutting down\n"
        return None

    def _on_request(self, request: Request) -> None:
        origins = request.headers.get_all("Origin")
        if len(origins) > 1:  # which one would the allow-list judge? Neither.
            self._reject(HTTPStatus.BAD_REQUEST, "duplicate Origin header\n")
            return
        refusal = self._refusal(request.path, origins[0] if origins else None)
        if refusal is not None:
            self._reject(*refusal)
            return
        response = self.ws.accept(request)
        self.ws.send_response(response)
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            return  # websockets refused a malformed handshake; its response says why
        self._raw = not self.ws.extensions
        self._open()

    def _open(self) -> None:
        ctx = self.context_of()
        conn = Connection(
            "k" + os.urandom(6).hex(),
            self,
            max_queue=ctx.limits.outbound_queue,
            max_queue_bytes=ctx.limits.outbound_queue_bytes,
            ledger=ctx.outbound,
            on_overflow=ctx.counters.slow_consumer,
        )
        self.conn = conn
        self.session = Session(ctx, conn, self._set_reading)

    def _reject(self, status: HTTPStatus, body: str) -> None:
        self.ws.send_response(self.ws.reject(status, body))

    def _refuse_unparsable(self, exc: InvalidMessage) -> None:
        """websockets could not parse the request (a body, an obs-folded header, a NUL…) and
        would only close the socket: answer 400 first, so the client learns why."""
        self.ws.data_to_send()  # just its EOF
        # The cause's first clause only: later ones quote the offending line back.
        cause = str(exc.__cause__ or exc).split(":")[0]
        reason = f"Failed to open a WebSocket connection: {cause}.\n".encode()
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: " + str(len(reason)).encode() + b"\r\nConnection: close\r\n\r\n" + reason
        )
        self.transport.close()

    # --------------------------------------------------------------- frames
    def _on_frame(self, frame: Frame) -> None:
        session = self.session
        if session is None:
            return
        opcode = frame.opcode
        if opcode is Opcode.BINARY or opcode is Opcode.TEXT:
            if not frame.fin:
                self._fragments = [bytes(frame.data)]
                self._fragmented_text = opcode is Opcode.TEXT
                return
            if opcode is Opcode.BINARY:
                session.on_binary(bytes(frame.data))
            else:
                session.on_text()
        elif opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), []
                if self._fragmented_text:
                    session.on_text()
                else:
                    session.on_binary(data)
        elif opcode is Opcode.CLOSE:
            self._close_sent = True  # websockets answered it; nothing more goes out

    def _send_protocol_output(self) -> None:
        """Write what websockets produced (handshake, pongs, close frames); ``b""`` means EOF."""
        transport = self.transport
        if transport is None:
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                transport.write(chunk)
            else:
                transport.close()
                return
        if self.ws.close_expected():
            self._drop_after(CLOSE_TIMEOUT)

    def _drop_after(self, delay: float) -> None:
        """Abort the socket if the closing handshake has not ended within ``delay`` seconds."""
        if self._close_timer is None:
            self._close_timer = asyncio.get_running_loop().call_later(delay, self.abort)

    def _set_reading(self, reading: bool) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if reading:
                self.transport.resume_reading()
            else:
                self.transport.pause_reading()

    # ------------------------------------------------------- Link (outbound)
    def write(self, data: bytes, framed: bytes | None = None) -> None:
        """:class:`Link`: write one binary frame (``framed``: the same bytes pre-framed by the fan-out).
        Frames go out in write order, those of one loop turn in one ``send()`` (without a negotiated
        extension); none after a close."""
        if self._close_sent or self.transport is None:
            return
        if not self._raw:
            self.ws.send_binary(data)
            self._send_protocol_output()
            return
        out = self._out
        if out is None:
            self._out = [framed if framed is not None else binary_frame(data)]
            self.flusher.mark(self)
        else:
            out.append(framed if framed is not None else binary_frame(data))

    def flush_out(self) -> None:
        """Send the frames written this turn (the flusher calls this)."""
        out, self._out = self._out, None
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def close(self, code: int, reason: str, linger: float = CLOSE_TIMEOUT) -> None:
        """:class:`Link`: flush this turn's frames, send a close frame, and abort the socket if the client
        has not answered within ``linger`` seconds. Only the first call acts.
        """
        if self._close_sent or self.transport is None:
            return
        self.flush_out()  # what was written before the close goes before the close frame
        self._close_sent = True
        self._drop_after(linger)
        if self.ws.state is State.OPEN:
            self.ws.send_close(code, reason.encode()[:120].decode(errors="ignore"))
            self._send_protocol_output()
        else:
            self.transport.close()
        # Keep reading: the client's close reply completes the handshake (websockets then sends EOF).

    def abort(self) -> None:
        """Drop the socket at once, discarding unsent frames; nothing is written after it."""
        self._close_sent = True
        self._out = None
        if self.transport is not None:
            self.transport.abort()
