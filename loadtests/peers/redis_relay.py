"""A bare ``websockets`` server that relays every message through Redis pub/sub.

The "one Redis hop per message" baseline: the simplest multi-node-capable
design. Same MessagePack dialect as ``loadtests/bench/baseline.py``.

- each user's connection subscribes ``u:{user}`` (and ``g:{group}``) on ONE
  pub/sub connection read by ONE task, which hands payloads to sockets with
  ``websockets.broadcast`` (no await, no task per message);
- publishes are queued and written as one pipeline per loop round by one
  flusher task (one round trip for everything queued meanwhile); the sender's
  ``ack`` is written once its message reached Redis.

That is a fair, not a naive, relay: it batches publishes and encodes once.

Run: ``python -m loadtests.peers.redis_relay --port P --redis-url redis://…``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import msgspec
import uvloop
from redis.asyncio import Redis
from websockets.asyncio.server import ServerConnection, broadcast, serve

_decode = msgspec.msgpack.decode
_encode = msgspec.msgpack.encode


class Relay:
    def __init__(self, redis_url: str) -> None:
        self.redis = Redis.from_url(redis_url)
        self.pubsub = self.redis.pubsub()
        self.local: dict[bytes, set[ServerConnection]] = {}
        self.seq = 0
        self.queue: list[tuple[bytes, bytes, ServerConnection, bytes]] = []
        self.wake = asyncio.Event()

    async def start(self) -> None:
        await self.pubsub.subscribe("relay:ready")
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._flush())]

    async def _read(self) -> None:
        while True:
            msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if msg is not None and msg["type"] == "message":
                socks = self.local.get(msg["channel"])
                if socks:
                    broadcast(socks, msg["data"])

    async def _flush(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.queue = self.queue, []
            if not batch:
                continue
            pipe = self.redis.pipeline(transaction=False)
            for channel, data, _, _ in batch:
                pipe.publish(channel, data)
            await pipe.execute()
            for _, _, ws, ack in batch:
                broadcast((ws,), ack)

    async def join(self, channel: bytes, ws: ServerConnection) -> None:
        socks = self.local.setdefault(channel, set())
        socks.add(ws)
        if len(socks) == 1:
            await self.pubsub.subscribe(channel)

    def leave(self, channel: bytes, ws: ServerConnection) -> None:
        socks = self.local.get(channel)
        if socks is not None:
            socks.discard(ws)

    async def handler(self, ws: ServerConnection) -> None:
        hello = _decode(await ws.recv())
        user: str = hello["user"]
        group: str | None = hello.get("group")
        channels = [f"u:{user}".encode()] + ([f"g:{group}".encode()] if group else [])
        for ch in channels:
            await self.join(ch, ws)
        await ws.send(_encode({"t": "welcome", "user": user}))
        try:
            async for data in ws:
                frame = _decode(data)
                self.seq += 1
                ts = int(time.time() * 1000)
                target = frame.get("group") or frame.get("to")
                msg = _encode(
                    {
                        "t": "msg",
                        "m": {
                            "conv": target,
                            "seq": self.seq,
                            "mid": f"m{self.seq}",
                            "sender": user,
                            "kind": "text",
                            "body": frame["body"],
                            "ts": ts,
                        },
                    }
                )
                channel = f"g:{target}" if "group" in frame else f"u:{target}"
                ack = _encode({"t": "ack", "id": frame["id"], "seq": self.seq, "ts": ts})
                self.queue.append((channel.encode(), msg, ws, ack))
                self.wake.set()
        finally:
            for ch in channels:
                self.leave(ch, ws)


async def main(host: str, port: int, redis_url: str) -> None:
    relay = Relay(redis_url)
    await relay.start()
    async with serve(relay.handler, host, port, compression=None, max_size=1 << 20, backlog=4096) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    uvloop.run(main(args.host, args.port, args.redis_url))
