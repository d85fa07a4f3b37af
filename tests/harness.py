"""Run real gateway nodes (uvicorn on free loopback ports) inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
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


async def _serve(server: ParleyServer) -> None:
    """uvicorn exits the process when it cannot bind; in a test that would end the event loop."""
    try:
        await server.serve()
    except SystemExit as exc:
        raise RuntimeError(f"uvicorn could not start (exit {exc.code})") from None


@asynccontextmanager
async def running_node(
    tmp: Path, *, app: tuple[App, str] | None = None, **overrides: Any
) -> AsyncIterator[RunningNode]:
    """Start one node; ``app`` reuses an existing ``(App, api_key)`` (several nodes, one store).

    A port picked here (none in ``overrides``) that was taken before uvicorn could bind it is
    replaced by another, up to three times.
    """
    fields: dict[str, Any] = {
        "port": free_port(),
        "sqlite_path": str(tmp / "parley.db"),
        "shutdown_grace": 1.0,
    }
    fields.update(overrides)
    for attempt in range(3):
        settings = Settings(**fields)
        server = make_server(settings, log_level="warning")
        task = asyncio.create_task(_serve(server))
        for _ in range(2400):  # up to 60 s on a loaded machine; ends as soon as it listens
            if server.started or task.done():
                break
            await asyncio.sleep(0.025)
        if server.started:
            break
        if not task.done():
            server.should_exit = True
            await asyncio.wait_for(task, 30)
            raise RuntimeError("uvicorn did not start")
        if "port" in overrides or attempt == 2:
            task.result()  # raises what stopped it
            raise RuntimeError("uvicorn did not start")
        with contextlib.suppress(BaseException):
            task.result()
        fields["port"] = free_port()
    try:
        node: Node = server.config.app.state.node  # type: ignore[attr-defined]
        if app is None:
            created = await node.services.apps.create_app("test")
            app = (created.app, created.api_key)
        yield RunningNode(settings, server, node, app[0], app[1])
    finally:
        server.should_exit = True
        await _stopped(task)


async def _stopped(task: asyncio.Task[None], timeout: float = 30) -> None:
    """Wait for the server task; if it hangs, print where every task is stuck before failing
    (a CI log then shows the culprit instead of only the harness's timeout)."""
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        for other in asyncio.all_tasks():
            if not other.done():
                print(f"--- task still pending at shutdown: {other.get_name()} ---", file=sys.stderr)
                other.print_stack(limit=12, file=sys.stderr)
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise TimeoutError(f"the node did not stop within {timeout} s (stacks on stderr)")
    task.result()
