"""Fixtures for the broker contract: "nodes" of one broker kind sharing one backing service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from parley.server.broker.memory import MemoryBroker, MemoryHub
from parley.server.broker.redis import RedisBroker
from parley.server.ports import Broker


class Node:
    """A started broker plus everything its handler received, in order."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.got: list[tuple[str, bytes]] = []
        self.fail_on: bytes | None = None  # the handler raises after recording this payload
        self._changed = asyncio.Event()

    def handler(self, channel: str, data: bytes) -> None:
        self.got.append((channel, data))
        self._changed.set()
        if data == self.fail_on:
            raise RuntimeError("handler bug")

    async def wait_for(self, count: int, within: float = 5.0) -> list[tuple[str, bytes]]:
        """Wait until at least ``count`` messages arrived; return them all."""

        async def arrived() -> None:
            while len(self.got) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(arrived(), within)
        return self.got

    def channels(self, channel: str) -> list[bytes]:
        return [data for ch, data in self.got if ch == channel]


async def eventually(condition: Callable[[], bool], within: float) -> None:
    """Poll ``condition`` until it holds; fail after ``within`` seconds."""
    for _ in range(int(within / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition still false after {within}s")


NodeFactory = Callable[[], Awaitable[Node]]


def redis_broker(url: str, prefix: str) -> RedisBroker:
    return RedisBroker(url, prefix=prefix, timeout=2.0)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def nodes(kind: str, request: pytest.FixtureRequest) -> AsyncIterator[NodeFactory]:
    """Start brokers that behave as nodes of one cluster (one hub, or one Redis + prefix)."""
    hub = MemoryHub()
    prefix = f"test-{uuid.uuid4().hex[:8]}:"  # isolates this test on the shared redis-server
    url = str(request.getfixturevalue("redis_url")) if kind == "redis" else ""
    started: list[Node] = []

    async def node() -> Node:
        broker: Broker = MemoryBroker(hub) if kind == "memory" else redis_broker(url, prefix)
        n = Node(broker)
        await broker.start(n.handler)
        started.append(n)
        return n

    yield node
    for n in started:
        await asyncio.wait_for(n.broker.close(), 10)
