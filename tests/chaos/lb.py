"""A tiny TCP load balancer for chaos tests: round-robin over live backends.

SDK clients take one URL; behind it, each new TCP connection goes to the next
backend that accepts it (a refused or timed-out connect tries the next one),
so a reconnect after a node died lands on a live node. Backends can also be
taken out of rotation explicitly (:meth:`LoadBalancer.disable`). Bytes are
copied both ways until either side closes; then the other side is closed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

__all__ = ["LoadBalancer"]


class LoadBalancer:
    def __init__(self, backends: list[int], *, host: str = "127.0.0.1", connect_timeout: float = 1.0) -> None:
        self.host = host
        self.backends = list(backends)
        self.disabled: set[int] = set()
        self.connect_timeout = connect_timeout
        self.port = 0
        #: Accepted connections per backend port (for reports).
        self.routed: dict[int, int] = dict.fromkeys(backends, 0)
        self._rr = itertools.count()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        for task in list(self._pipes):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def disable(self, port: int) -> None:
        self.disabled.add(port)

    def enable(self, port: int) -> None:
        self.disabled.discard(port)

    def add(self, port: int) -> None:
        if port not in self.backends:
            self.backends.append(port)
            self.routed.setdefault(port, 0)

    async def _connect_backend(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        live = [p for p in self.backends if p not in self.disabled]
        if not live:
            return None
        start = next(self._rr)
        for i in range(len(live)):
            port = live[(start + i) % len(live)]
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, port), self.connect_timeout
                )
            except (OSError, TimeoutError):
                continue
            return port, reader, writer
        return None

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            backend = await self._connect_backend()
            if backend is None:
                c_writer.transport.abort()
                return
            port, b_reader, b_writer = backend
            self.routed[port] += 1
            up = asyncio.ensure_future(_pump(c_reader, b_writer))
            down = asyncio.ensure_future(_pump(b_reader, c_writer))
            try:
                await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (up, down):
                    t.cancel()
                for t in (up, down):
                    with contextlib.suppress(BaseException):
                        await t
                # A dead backend looks like a dead network to the client: abort both sides.
                b_writer.transport.abort()
                c_writer.transport.abort()
        finally:
            self._pipes.discard(task)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while True:
            data = await reader.read(65536)
            if not data:
                return
            writer.write(data)
            await writer.drain()
