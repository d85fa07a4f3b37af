"""The baseline: a bare ``websockets`` server with no persistence, auth or broker.

It speaks a MessagePack dialect shaped like Parley's so the load generator
drives both the same way:

- ``{"t": "hello", "user": u, "group": g?}`` → ``{"t": "welcome"}`` (no token check);
- ``{"t": "send", "id", "to": user | "group": g, "body"}`` → one ``msg`` frame
  (``{"t": "msg", "m": {conv, seq, mid, sender, kind, body, ts}}``, encoded
  once) relayed to the peer, or handed to every member with
  ``websockets.broadcast``; then ``{"t": "ack", "id", "seq", "ts"}`` to the sender.

This is the ceiling a Python WebSocket server reaches on this machine; the
ratio Parley / baseline is what the gateway's storage, auth and broker cost.

Run: ``python -m loadtests.bench.baseline --port P [--deflate]`` (uvloop; deflate off by default).
"""

from __future__ import annotations

import argparse
import time

import msgspec
import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

_decode = msgspec.msgpack.decode
_encode = msgspec.msgpack.encode


class Relay:
    def __init__(self) -> None:
        self.users: dict[str, ServerConnection] = {}
        self.groups: dict[str, set[ServerConnection]] = {}
        self.seq = 0

    async def handler(self, ws: ServerConnection) -> None:
        hello = _decode(await ws.recv())
        user: str = hello["user"]
        group: str | None = hello.get("group")
        self.users[user] = ws
        if group:
            self.groups.setdefault(group, set()).add(ws)
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
                if "group" in frame:
                    broadcast(self.groups.get(frame["group"], ()), msg)
                else:
                    peer = self.users.get(frame["to"])
                    if peer is not None:
                        await peer.send(msg)
                await ws.send(_encode({"t": "ack", "id": frame["id"], "seq": self.seq, "ts": ts}))
        finally:
            if self.users.get(user) is ws:
                del self.users[user]
            if group:
                self.groups.get(group, set()).discard(ws)


async def main(host: str, port: int, deflate: bool = False) -> None:
    relay = Relay()
    compression = "deflate" if deflate else None
    async with serve(
        relay.handler, host, port, compression=compression, max_size=1 << 20, backlog=4096
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--deflate", action="store_true", help="offer permessage-deflate (websockets' defaults)"
    )
    args = parser.parse_args()
    uvloop.run(main(args.host, args.port, args.deflate))
