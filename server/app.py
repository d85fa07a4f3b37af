"""``build_app(settings)``: the Starlette application — WebSocket gateway, admin API, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from parley.server.admin.routes import admin_routes
from parley.server.gateway.endpoint import websocket_endpoint
from parley.server.node import Node
from parley.server.settings import Settings

__all__ = ["build_app"]


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


def build_app(settings: Settings, node: Node | None = None) -> Starlette:
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
        WebSocketRoute("/ws", websocket_endpoint),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *admin_routes(settings),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
