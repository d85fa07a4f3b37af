"""A bare protocol client for gateway tests: raw frames over a real WebSocket."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, TypeVar

import msgspec
import websockets

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames

F = TypeVar("F")

_ids = itertools.count(1)


class RawClient:
    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.decoder = ServerDecoder()
        self.backlog: list[Any] = []

    @classmethod
    async def connect(cls, url: str, token: str | None = None, **hello: Any) -> RawClient:
        client = cls(await websockets.connect(url, max_size=None))
        if token is not None:
            await client.send(frames.Hello(v=hello.pop("v", PROTOCOL_VERSION), token=token, **hello))
            welcome = await client.expect(frames.Welcome)
            client.welcome = welcome
        return client

    async def send(self, frame: msgspec.Struct) -> None:
        await self.ws.send(encode(frame))

    async def send_raw(self, data: bytes) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = 5.0) -> Any:
        if self.backlog:
            return self.backlog.pop(0)
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(data, bytes)
        return self.decoder.decode(data)

    async def expect(self, kind: type[F], timeout: float = 5.0, **match: Any) -> F:
        """Wait for the next frame of ``kind`` (matching fields); other frames are kept for later."""
        skipped: list[Any] = []
        try:
            while True:
                frame = await self.recv(timeout)
                if isinstance(frame, kind) and all(getattr(frame, k) == v for k, v in match.items()):
                    return frame
                skipped.append(frame)
        finally:
            self.backlog = skipped + self.backlog

    async def request(self, frame_type: type[Any], **fields: Any) -> Any:
        """Send a request with a fresh id and return its reply (a result or an error frame)."""
        request_id = next(_ids)
        await self.send(frame_type(id=request_id, **fields))
        skipped: list[Any] = []
        try:
            while True:
                frame = await self.recv()
                if getattr(frame, "id", None) == request_id and not isinstance(frame, frames.Msg):
                    return frame
                skipped.append(frame)
        finally:
            self.backlog = skipped + self.backlog

    async def close(self) -> None:
        await self.ws.close()
