"""Run real gateway nodes (uvicorn on free loopback ports) inside the test's event loop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from parley.server.models import App
from parley.server.node import Node
from parley.server.serve import ParleyServer, make_server
from parley.server.settings import Settings
from tests.servers import free_port


@dataclasses.dataclass
class RunningNode:
    settings: Settings
    server: ParleyServer
    node: Node
    app: App
    api_key: str

    @property
    def url(self) -> str:
        """WebSocket URL of the gateway."""
        return f"ws://127.0.0.1:{self.settings.port}/ws"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    async def token(self, user: str, ttl: int = 3600) -> str:
        token, _ = await self.node.services.apps.token(self.app.app, user, ttl=ttl)
        return token


@asynccontextmanager
async def running_node(
    tmp: Path, *, app: tuple[App, str] | None = None, **overrides: Any
) -> AsyncIterator[RunningNode]:
    """Start one node; ``app`` reuses an existing ``(App, api_key)`` (several nodes, one store)."""
    fields: dict[str, Any] = {
        "port": free_port(),
        "sqlite_path": str(tmp / "parley.db"),
        "shutdown_grace": 1.0,
    }
    fields.update(overrides)
    settings = Settings(**fields)
    server = make_server(settings, log_level="warning")
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(400):
            if server.started or task.done():
                break
            await asyncio.sleep(0.025)
        if not server.started:
            if task.done():
                task.result()
            raise RuntimeError("uvicorn did not start")
        node: Node = server.config.app.state.node  # type: ignore[attr-defined]
        if app is None:
            created = await node.services.apps.create_app("test")
            app = (created.app, created.api_key)
        yield RunningNode(settings, server, node, app[0], app[1])
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
