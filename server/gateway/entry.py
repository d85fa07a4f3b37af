"""Where a new socket goes: the first request line decides.

``GET /ws`` (the gateway path) goes straight to :class:`GatewayProtocol`, whose
websockets parser reads the handshake; anything else goes to uvicorn's HTTP
protocol (admin API, health, metrics). A connect storm then pays for one HTTP
parse per connection instead of two (uvicorn's, then websockets' after uvicorn
re-serialises the request), and for no HTTP protocol object at all. A plain
``GET /ws`` without ``Upgrade`` gets websockets' own ``426 Upgrade Required``.

The request-head deadline (:mod:`~parley.server.gateway.deadline`) starts here, when the
socket is accepted, and goes with the socket to the chosen protocol. A request line ends at
LF (with or without CR): one with bare LF endings is decided and answered at once, not held
until the sniff limit.
"""

from __future__ import annotations

import asyncio
from typing import Any

from parley.server.gateway.deadline import HeadDeadline

__all__ = ["entry_protocol"]

#: A request line longer than this without its CRLF is not ours: let HTTP answer it.
_MAX_SNIFF = 8192


def entry_protocol(
    path: str, gateway: type[asyncio.Protocol], http: type[asyncio.Protocol], *, head_timeout: float = 0.0
) -> type[asyncio.Protocol]:
    """The class to give uvicorn as ``http=``; ``head_timeout`` > 0 closes sockets slow to send a head."""
    prefix = b"GET " + path.encode()

    class EntryProtocol(asyncio.Protocol):
        __slots__ = ("_args", "_buffer", "_connections", "_deadline", "_transport")

        def __init__(self, **kwargs: Any) -> None:
            self._args = kwargs
            self._connections: set[Any] = kwargs["server_state"].connections
            self._transport: asyncio.BaseTransport | None = None
            self._buffer = b""
            self._deadline: HeadDeadline | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self._transport = transport
            self._connections.add(self)
            self._deadline = HeadDeadline(transport, head_timeout)
            self._deadline.arm()

        def data_received(self, data: bytes) -> None:
            buffer = self._buffer + data
            end = buffer.find(b"\n")
            if end < 0 and len(buffer) < _MAX_SNIFF:
                self._buffer = buffer
                return
            line = buffer[:end].rstrip(b"\r") if end >= 0 else buffer
            ours = line.startswith(prefix) and line[len(prefix) : len(prefix) + 1] in (b" ", b"?")
            if ours:
                kwargs = {k: v for k, v in self._args.items() if k != "_loop"}
                chosen = gateway(**kwargs)
            else:
                chosen = http(**self._args)
            self._hand_over(chosen, buffer)

        def _hand_over(self, chosen: asyncio.Protocol, buffer: bytes) -> None:
            transport = self._transport
            assert transport is not None
            self._connections.discard(self)
            chosen.head_deadline = self._deadline  # type: ignore[attr-defined]  # both kinds have it
            transport.set_protocol(chosen)
            chosen.connection_made(transport)
            chosen.data_received(buffer)

        def connection_lost(self, exc: Exception | None) -> None:
            self._connections.discard(self)
            if self._deadline is not None:
                self._deadline.disarm()

        def shutdown(self) -> None:
            """uvicorn's shutdown: a socket that has not sent its request line yet just closes."""
            if self._transport is not None:
                self._transport.close()

    return EntryProtocol
