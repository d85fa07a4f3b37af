"""Run a node under uvicorn, draining it before uvicorn closes connections."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parley.server.app import GATEWAY_PATH, ParleyApp, build_app, ops_address
from parley.server.gateway.deadline import timed_http_protocol
from parley.server.gateway.entry import entry_protocol
from parley.server.gateway.pipeline import ordered_upgrades
from parley.server.gateway.transport import gateway_protocol
from parley.server.node import Node
from parley.server.settings import Settings

__all__ = ["GC_YOUNG_THRESHOLD", "ParleyServer", "make_server", "tune_gc"]

#: Net container allocations between two young-generation garbage collections in a serving
#: process (CPython's default is 700). Each connect allocates a few hundred objects and keeps
#: ~30 for the connection's life; at 700, objects of the ~100 handshakes in flight are caught
#: young, promoted, and set off full collections that walk every live connection: a quarter
#: of the CPU of a connect storm went to the collector (docs/BENCHMARKS.md, session 5). At
#: 10 000, a storm of 18 000 connects ran no full collection instead of 12, and the server
#: spent ~15 % less CPU per connect. Garbage in reference cycles waits at most one young
#: collection longer (a few MB at most); nothing else changes.
GC_YOUNG_THRESHOLD = 10_000


class OpsHttpProtocol(HttpToolsProtocol):
    """The ops listener's HTTP: plain requests only, an upgrade is just a request (404)."""

    def _should_upgrade(self) -> bool:
        return False

    def _unsupported_upgrade_warning(self) -> None:
        pass  # answered 404 like any path the ops listener does not serve


class ParleyServer(uvicorn.Server):
    """uvicorn's server, except that on shutdown clients first get ``bye`` and close 1012,
    and that ``ops`` (``Settings.ops_listen``) adds a listener for the ops endpoints."""

    #: ``(host, port)`` of the ops listener, or None.
    ops: tuple[str, int] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Open the ops listener (if any) before the public port, then start uvicorn; exit 1 if the
        ops address cannot be bound, closing what was opened.
        """
        # Bound before the public port is announced: an early probe waits in the backlog.
        try:
            ops_sock = socket.create_server(self.ops, backlog=128) if self.ops else None
        except OSError as exc:
            logging.getLogger("uvicorn.error").error("cannot listen on the ops address %s: %s", self.ops, exc)
            raise SystemExit(1) from None
        try:
            await super().startup(sockets)
        except BaseException:
            if ops_sock is not None:
                ops_sock.close()
            raise
        if ops_sock is None:
            return
        config, state = self.config, self.lifespan.state

        def factory() -> asyncio.Protocol:
            return OpsHttpProtocol(config=config, server_state=self.server_state, app_state=state)

        self.servers.append(await asyncio.get_running_loop().create_server(factory, sock=ops_sock))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting, drain the node (every client gets ``bye`` and a 1012 close within the
        grace period), then let uvicorn close what is left.
        """
        for server in self.servers:
            server.close()
        app = self.config.app
        node: Node | None = getattr(getattr(app, "state", None), "node", None)
        if node is not None:
            await node.drain()
            await asyncio.sleep(0)
        await super().shutdown(sockets)


def tune_gc() -> None:
    """Set this process's young-generation collection threshold to :data:`GC_YOUNG_THRESHOLD`
    (the older generations keep their thresholds). Called once by ``parley serve``."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def make_server(settings: Settings, app: ParleyApp | None = None, *, log_level: str = "info") -> ParleyServer:
    """A server for ``settings`` (and ``app``, built from them by default) that is not yet running.

    WebSocket requests for the gateway path bypass ASGI and go to the gateway's own protocol;
    every other request is HTTP with the head and body deadlines of ``settings``.
    """
    app = app or build_app(settings)
    gateway = gateway_protocol(GATEWAY_PATH, lambda: app.node.gateway)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        # New sockets whose request line is ``GET /ws`` go straight to the gateway's own
        # protocol; the rest is HTTP (and an upgrade arriving on a kept-alive HTTP
        # connection reaches the gateway through ``ws=``). No ASGI on the message path.
        # Every socket must finish each request head within ``head_timeout`` (slow-loris).
        http=entry_protocol(
            GATEWAY_PATH,
            gateway,
            # An upgrade pipelined behind HTTP requests waits for their responses.
            timed_http_protocol(ordered_upgrades(HttpToolsProtocol), body_timeout=settings.body_timeout),
            head_timeout=settings.head_timeout,
        ),
        ws=gateway,
        # The codec enforces max_frame with an error frame; the transport only
        # refuses what is far beyond it (close 1009), to bound memory.
        ws_max_size=max(4 * settings.max_frame, 1 << 20),
        ws_per_message_deflate=False,
        lifespan="on",
        log_level=log_level,
        log_config=None,  # the CLI configures logging (JSON by default) for uvicorn too
        timeout_graceful_shutdown=int(settings.shutdown_grace) + 1,
        backlog=4096,
    )
    server = ParleyServer(config)
    server.ops = ops_address(settings)
    return server
