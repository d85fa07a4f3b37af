"""A tiny scripted gateway speaking the real proto frames, for deterministic SDK edge cases.

It keeps messages in memory, answers hello/sync/send/history like the real
gateway, and exposes knobs to misbehave on purpose: drop the socket after
storing a send but before acking it, refuse hello, push arbitrary frames,
close with a given code.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

from parley.proto import ClientDecoder, encode, frames

Hook = Callable[["Peer", Any], Awaitable[bool]]


@dataclass
class Peer:
    """One client connection seen by the fake gateway."""

    ws: ServerConnection
    index: int
    received: list[Any] = field(default_factory=list)

    async def push(self, frame: Any) -> None:
        await self.ws.send(encode(frame))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    def abort(self) -> None:
        self.ws.transport.abort()


class FakeGateway:
    """In-memory gateway; ``hooks[type]`` may intercept a client frame (return True = handled)."""

    def __init__(self, user: str = "alice") -> None:
        self.user = user
        self.convs: dict[str, list[frames.Message]] = {}
        self.epochs: dict[str, str] = {}
        self.cmids: dict[tuple[str, str], frames.Message] = {}
        self.peers: list[Peer] = []
        self.hooks: dict[type, Hook] = {}
        self.hello_error: tuple[str, int] | None = None
        self.tokens_seen: list[str] = []
        self.acks: list[frames.Ack] = []
        self._ids = itertools.count()
        self._server: Any = None
        self.connected = asyncio.Event()

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws"

    async def __aenter__(self) -> FakeGateway:
        self._server = await serve(self._handle, "127.0.0.1", 0, compression=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    # ------------------------------------------------------------- store
    def add_conv(self, conv: str, epoch: str = "e1") -> None:
        self.convs.setdefault(conv, [])
        self.epochs[conv] = epoch

    def store(self, conv: str, body: dict[str, Any], sender: str = "bob", cmid: str = "") -> frames.Message:
        log = self.convs.setdefault(conv, [])
        self.epochs.setdefault(conv, "e1")
        m = frames.Message(
            conv=conv, seq=len(log) + 1, mid=f"m{next(self._ids)}", sender=sender, kind="text",
            body=body, ts=int(time.time() * 1000), cmid=cmid,
        )  # fmt: skip
        log.append(m)
        return m

    async def broadcast(self, m: frames.Message) -> None:
        for peer in list(self.peers):
            try:
                await peer.push(frames.Msg(m=m))
            except websockets.ConnectionClosed:
                pass

    @property
    def live(self) -> Peer:
        return self.peers[-1]

    async def wait_peers(self, n: int, timeout: float = 5.0) -> Peer:
        async with asyncio.timeout(timeout):
            while len(self.peers) < n:
                await asyncio.sleep(0.01)
        return self.peers[n - 1]

    # ---------------------------------------------------------- protocol
    async def _handle(self, ws: ServerConnection) -> None:
        decoder = ClientDecoder()
        peer = Peer(ws, len(self.peers))
        try:
            hello = decoder.decode(await ws.recv())
            assert isinstance(hello, frames.Hello)
            self.tokens_seen.append(hello.token)
            if self.hello_error is not None:
                code, close = self.hello_error
                await ws.send(encode(frames.Error(code=code, message="refused", action="fatal")))
                await ws.close(close, "refused")
                return
            await ws.send(
                encode(
                    frames.Welcome(
                        v=1,
                        session=f"s{peer.index}",
                        app="a",
                        user=self.user,
                        node="n",
                        ts=0,
                        heartbeat_ms=25_000,
                        max_frame=65536,
                    )
                )
            )
            self.peers.append(peer)
            async for data in ws:
                frame = decoder.decode(data)  # type: ignore[arg-type]
                peer.received.append(frame)
                hook = self.hooks.get(type(frame))
                if hook is not None and await hook(peer, frame):
                    continue
                await self.default(peer, frame)
        except websockets.ConnectionClosed:
            pass

    async def default(self, peer: Peer, frame: Any) -> None:
        if isinstance(frame, frames.Send):
            await self.do_send(peer, frame, ack=True)
        elif isinstance(frame, frames.Sync):
            await self.do_sync(peer, frame)
        elif isinstance(frame, frames.History):
            log = self.convs.get(frame.conv, [])
            await peer.push(frames.Page(id=frame.id, conv=frame.conv, messages=log[-frame.limit :]))
        elif hasattr(frame, "id"):
            await peer.push(frames.Ok(id=frame.id))

    async def do_send(self, peer: Peer, frame: frames.Send, *, ack: bool) -> frames.Message:
        key = (frame.conv, frame.cmid)
        dup = key in self.cmids
        if not dup:
            self.cmids[key] = self.store(frame.conv, frame.body, sender=self.user, cmid=frame.cmid)
        m = self.cmids[key]
        if ack:
            a = frames.Ack(id=frame.id, conv=m.conv, cmid=m.cmid, mid=m.mid, seq=m.seq, ts=m.ts, dup=dup)
            self.acks.append(a)
            await peer.push(a)
            if not dup:
                await self.broadcast(m)
        return m

    async def do_sync(self, peer: Peer, frame: frames.Sync) -> None:
        asked = {p.conv: p for p in frame.positions}
        states = []
        for conv, log in self.convs.items():
            state = frames.SyncState(conv=conv, last_seq=len(log), epoch=self.epochs[conv])
            p = asked.pop(conv, None)
            if p is not None:
                if (p.epoch and p.epoch != self.epochs[conv]) or p.seq > len(log):
                    state.reset = True
                else:
                    last = min(len(log), p.seq + frame.limit)
                    for m in log[p.seq : last]:
                        await peer.push(frames.Msg(m=m))
                    state.more = last < len(log)
            states.append(state)
        for conv in asked:
            states.append(frames.SyncState(conv=conv, last_seq=0, epoch="", reset=True))
        await peer.push(frames.Synced(id=frame.id, convs=states))
