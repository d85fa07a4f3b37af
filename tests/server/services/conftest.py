"""Services as units: a real SQLite store in ``tmp_path`` and the in-process broker — no gateway,
no node, no sockets. ``wire`` records what a service publishes on the channels a test watches."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from parley.proto.errors import ErrorCode
from parley.server.broker.memory import MemoryBroker
from parley.server.channels import Control, control_channel, conv_channel, decode_control
from parley.server.errors import ServiceError
from parley.server.store.sqlite import SQLiteStore


class Wire:
    """An in-process broker that records every publish on the channels it watches."""

    def __init__(self) -> None:
        self.broker = MemoryBroker()
        self.seen: list[tuple[str, bytes]] = []

    async def start(self) -> None:
        await self.broker.start(lambda channel, data: self.seen.append((channel, data)))

    async def watch(self, *channels: str) -> None:
        """Record what is published on ``channels`` from now on (not what is still queued)."""
        await self.broker.flush()
        await self.broker.subscribe(channels)

    async def frames(self, channel: str) -> list[dict[str, Any]]:
        """The frames published on ``channel`` so far, decoded to plain maps."""
        await self.broker.flush()
        return [msgspec.msgpack.decode(data) for c, data in self.seen if c == channel]

    async def controls(self, channel: str) -> list[Control]:
        """The control events published on a user's control channel so far."""
        await self.broker.flush()
        return [decode_control(data) for c, data in self.seen if c == channel]

    async def conv(self, app: str, conv: str) -> list[dict[str, Any]]:
        return await self.frames(conv_channel(app, conv))

    async def control(self, app: str, user: str) -> list[Control]:
        return await self.controls(control_channel(app, user))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "parley.db"))
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    w = Wire()
    await w.start()
    try:
        yield w
    finally:
        await w.broker.close()


@contextlib.contextmanager
def refused(code: ErrorCode, match: str = "") -> Iterator[None]:
    """Expect a ``ServiceError`` with ``code`` (and ``match`` in its message)."""
    with pytest.raises(ServiceError) as caught:
        yield
    assert caught.value.code is code, caught.value
    assert match in caught.value.message, caught.value
