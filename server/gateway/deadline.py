"""The request-head deadline: a socket must finish each request head in time (slow-loris).

Without it a socket that connects and sends nothing, half a request line, or one header
byte every few seconds holds a file descriptor and a protocol object forever: nothing
below the WebSocket ``hello`` (``auth_timeout``) or after a response (uvicorn's keep-alive
timeout) watches a request that has begun but not ended. :class:`EntryProtocol` arms the
deadline when the socket is accepted and hands it on with the socket; whoever parses the
head disarms it when the head is complete — the gateway's handshake, or the HTTP protocol
below (:func:`timed_http_protocol`), which re-arms it when a kept-alive connection begins
its next request; a request body must then arrive within ``body_timeout``. Past a
deadline the socket is aborted: a client that is not finishing its request is not reading
an answer either, and a close would wait for buffered writes.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HeadDeadline", "timed_http_protocol"]


class HeadDeadline:
    """Aborts ``transport`` ``timeout`` seconds after :meth:`arm` unless :meth:`disarm` came first."""

    __slots__ = ("_timeout", "_timer", "_transport")

    def __init__(self, transport: asyncio.BaseTransport, timeout: float) -> None:
        self._transport = transport
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None

    def arm(self) -> None:
        """Start the clock (no-op if it is running): a request head has begun."""
        if self._timer is None and self._timeout > 0:
            self._timer = asyncio.get_running_loop().call_later(self._timeout, self._expire)

    def disarm(self) -> None:
        """The head is complete (or the socket is gone): stop the clock."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if not self._transport.is_closing():
            self._transport.abort()  # type: ignore[attr-defined]  # a stream transport


def timed_http_protocol(
    base: type[HttpToolsProtocol], *, body_timeout: float = 0.0
) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol under the head deadline (on every request of the connection)
    and a body deadline: ``body_timeout`` seconds from the end of a head to the end of its body."""

    class TimedHttpProtocol(base):  # type: ignore[valid-type,misc]
        #: Set by the entry protocol right after construction.
        head_deadline: HeadDeadline | None = None
        body_deadline: HeadDeadline | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.body_deadline = HeadDeadline(transport, body_timeout)
            super().connection_made(transport)

        def on_message_begin(self) -> None:
            if self.head_deadline is not None:
                self.head_deadline.arm()
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            if self.head_deadline is not None:
                self.head_deadline.disarm()
            if self.body_deadline is not None:
                self.body_deadline.arm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            if self.body_deadline is not None:
                self.body_deadline.disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            for deadline in (self.head_deadline, self.body_deadline):
                if deadline is not None:
                    deadline.disarm()
            super().connection_lost(exc)

    TimedHttpProtocol.__name__ = TimedHttpProtocol.__qualname__ = "TimedHttpProtocol"
    return TimedHttpProtocol
