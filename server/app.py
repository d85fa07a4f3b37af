"""``build_app(settings)``: the Starlette application — WebSocket gateway, admin API, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from parley.server.admin.routes import admin_routes
from parley.server.node import Node
from parley.server.settings import Settings

__all__ = ["ParleyApp", "build_app"]

#: Where the WebSocket gateway listens.
GATEWAY_PATH = "/ws"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    node: Node = request.app.state.node
    return Response(node.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def readyz(request: Request) -> Response:
    node: Node = request.app.state.node
    problems = {}
    for name, check in (("store", node.services.store.ping), ("broker", node.services.broker.ping)):
        try:
            await check()
        except Exception as exc:
            problems[name] = str(exc) or type(exc).__name__
    if node.draining:
        problems["node"] = "draining"
    status = 503 if problems else 200
    return JSONResponse(
        {"status": "unready" if problems else "ready", "problems": problems}, status_code=status
    )


class ParleyApp:
    """The ASGI app: admin API, health, metrics and the node's lifespan (Starlette).

    WebSocket upgrades never reach it: uvicorn hands them to the gateway's own
    protocol (:func:`parley.server.gateway.transport.gateway_protocol`, wired in
    :func:`parley.server.serve.make_server`).
    """

    def __init__(self, http: Starlette) -> None:
        self.http = http

    @property
    def state(self) -> Any:
        return self.http.state

    @property
    def routes(self) -> list[BaseRoute]:
        return [*self.http.routes, Route(GATEWAY_PATH, _not_http)]

    @property
    def node(self) -> Node:
        """The running node (set by the lifespan, before the server accepts connections)."""
        node: Node = self.http.state.node
        return node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.http(scope, receive, send)


async def _not_http(request: Request) -> Response:
    return JSONResponse({"detail": f"{GATEWAY_PATH} speaks WebSocket"}, status_code=426)


def build_app(settings: Settings, node: Node | None = None) -> ParleyApp:
    """The whole server for one node. ``node`` may be injected (tests wiring custom adapters)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        running = node or Node.from_settings(settings)
        await running.start()
        app.state.node = running
        try:
            yield
        finally:
            await running.stop()

    routes = [
        Route(GATEWAY_PATH, _not_http),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *admin_routes(settings),
    ]
    return ParleyApp(Starlette(routes=routes, lifespan=lifespan))
