"""An upgrade pipelined behind HTTP requests waits for their responses (RFC 9112 §9.3.2).

uvicorn hands a WebSocket upgrade to the gateway the moment its head is parsed, even while
earlier requests on the same connection are still being answered: the ``101`` then went out
before their ``200``\\ s, and the client read a response for the wrong request. Here the hand-over
waits until the last earlier response is complete; meanwhile the socket is not read (the
client's first frames stay in the kernel buffer until the gateway owns the socket).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ordered_upgrades"]


def ordered_upgrades(base: type[HttpToolsProtocol]) -> type[HttpToolsProtocol]:
    """``base`` whose WebSocket upgrade happens only after every earlier response is sent."""

    class OrderedUpgradeProtocol(base):  # type: ignore[valid-type,misc]
        _upgrade_waiting = False

        def _answering(self) -> bool:
            return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

        def handle_websocket_upgrade(self) -> None:
            if self._answering():
                self._upgrade_waiting = True
                self.transport.pause_reading()
                return
            super().handle_websocket_upgrade()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self._upgrade_waiting:
                return
            if self._answering():  # the next pipelined response is on its way
                self.transport.pause_reading()  # uvicorn resumed reading for it: not yet
                return
            self._upgrade_waiting = False
            self._unset_keepalive_if_required()  # uvicorn armed it: not idle, upgrading
            if self.transport.is_closing():
                return  # the last response closed the connection (``Connection: close``)
            super().handle_websocket_upgrade()
            self.transport.resume_reading()

    OrderedUpgradeProtocol.__name__ = OrderedUpgradeProtocol.__qualname__ = "OrderedUpgradeProtocol"
    return OrderedUpgradeProtocol
