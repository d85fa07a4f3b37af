"""``build_app(settings)``: the Starlette application — WebSocket gateway, admin API, health."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from parley.proto.errors import ErrorCode
from parley.server.admin.guard import AdminGuard, KeyRateLimiter
from parley.server.admin.knowledge_uploads import knowledge_upload_routes
from parley.server.admin.lease_routes import lease_routes
from parley.server.admin.problems import problem
from parley.server.admin.routes import admin_routes
from parley.server.admin.tagdefs_routes import tagdefs_routes
from parley.server.console.admin_api import console_admin_routes
from parley.server.console.admin_tags import console_tagdef_routes
from parley.server.console.agent_more import console_agent_more_routes
from parley.server.console.api import console_api_routes
from parley.server.console.marketer_api import console_marketer_routes
from parley.server.console.marketer_more import console_marketer_more_routes
from parley.server.console.pages import console_page_routes
from parley.server.node import Node
from parley.server.settings import Settings

__all__ = ["OPS_PATHS", "ParleyApp", "build_app", "ops_address"]

#: What ``ops_token`` guards and ``ops_listen`` moves off the public port.
OPS_PATHS = frozenset({"/metrics", "/readyz"})


def ops_address(settings: Settings) -> tuple[str, int] | None:
    """``settings.ops_listen`` as ``(host, port)``; ``ValueError`` if it is not ``HOST:PORT``."""
    if not settings.ops_listen:
        return None
    host, sep, port = settings.ops_listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"ops_listen must be HOST:PORT, not {settings.ops_listen!r}")
    return host.strip("[]"), int(port)


log = logging.getLogger("parley.health")

#: Where the WebSocket gateway listens.
GATEWAY_PATH = "/ws"


async def healthz(request: Request) -> Response:
    """Liveness: answers 200 while the process serves HTTP, whatever the store and broker do."""
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    """The node's Prometheus metrics in the text exposition format."""
    node: Node = request.app.state.node
    return Response(node.metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def readyz(request: Request) -> Response:
    """Ready to serve? What is not is named in generic words only: the body is often public
    (a load balancer's health page), so a driver's error text — hostnames, ports, the
    database's own words — goes to the log, never into the response."""
    node: Node = request.app.state.node
    problems = {}
    deadline = node.settings.store_timeout + node.settings.probe_timeout
    for name, check in (("store", node.store.ping), ("broker", node.services.broker.ping)):
        try:
            await asyncio.wait_for(check(), deadline)
        except Exception as exc:
            log.warning("readiness: %s unavailable: %s", name, str(exc) or type(exc).__name__)
            problems[name] = "unavailable"
    if node.draining:
        problems["node"] = "draining"
    status = 503 if problems else 200
    return JSONResponse(
        {"status": "unready" if problems else "ready", "problems": problems}, status_code=status
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(endpoint: Endpoint, token: str | None) -> Endpoint:
    """``endpoint`` behind ``Authorization: Bearer <token>`` (``Settings.ops_token``); open if unset."""
    if not token:
        return endpoint
    expected = token.encode()

    async def checked(request: Request) -> Response:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            refused = problem(ErrorCode.NOT_AUTHENTICATED, "send 'Authorization: Bearer <ops token>'")
            refused.headers["WWW-Authenticate"] = 'Bearer realm="parley-ops"'
            return refused
        return await endpoint(request)

    return checked


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
        """Starlette's ``app.state`` (where the lifespan puts the node)."""
        return self.http.state

    @property
    def routes(self) -> list[BaseRoute]:
        """The HTTP routes, plus the gateway path, which answers a plain HTTP request with 426."""
        return [*self.http.routes, Route(GATEWAY_PATH, _not_http)]

    @property
    def node(self) -> Node:
        """The running node (set by the lifespan, before the server accepts connections)."""
        node: Node = self.http.state.node
        return node

    #: With ``ops_listen``: the ops listener's port. Its requests reach only the ops routes,
    #: and the public port's never do (set by :func:`build_app`).
    ops_port: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ops_port is not None and scope["type"] == "http":
            on_ops = (scope.get("server") or ("", None))[1] == self.ops_port
            path = scope["path"]
            if path != "/healthz" and (path in OPS_PATHS) != on_ops:
                await JSONResponse({"detail": "not found"}, status_code=404)(scope, receive, send)
                return
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
        #: What the admin API uses (it never reaches into the node).
        app.state.services = running.services
        try:
            yield
        finally:
            await running.stop()

    routes = [
        Route(GATEWAY_PATH, _not_http),
        Route("/healthz", healthz),
        Route("/readyz", guarded(readyz, settings.ops_token)),
        Route("/metrics", guarded(metrics, settings.ops_token)),
        *admin_routes(settings),
        *tagdefs_routes(),
        *lease_routes(),
        *knowledge_upload_routes(),
        *console_api_routes(settings),
        *console_admin_routes(),
        *console_marketer_routes(),
        *console_marketer_more_routes(),
        *console_agent_more_routes(),
        *console_tagdef_routes(),
        *console_page_routes(),
    ]
    guard = Middleware(AdminGuard, max_body=settings.admin_max_body, max_upload=settings.admin_max_upload)
    http = Starlette(routes=routes, lifespan=lifespan, middleware=[guard])
    http.state.admin_limiter = KeyRateLimiter(settings.admin_rate, settings.admin_rate_burst)
    # console logins: ``console_login_rate`` a minute per account and per client address
    rate = settings.console_login_rate
    http.state.console_limiter = KeyRateLimiter(rate / 60, rate)
    app = ParleyApp(http)
    address = ops_address(settings)
    app.ops_port = address[1] if address else None
    return app
