"""python-socketio on uvicorn with ``AsyncRedisManager``: the Socket.IO way to chat.

Events (JSON, Socket.IO v5 over Engine.IO v4, websocket transport):

- ``hello`` ``{user, group?}`` → joins rooms ``u:{user}`` (and ``g:{group}``);
  the event's ack answers ``{"t": "welcome"}``;
- ``send`` ``{id, to | group, body}`` → ``emit("msg", {"m": {...}}, to=room)``
  (through Redis: ``AsyncRedisManager`` publishes every emit and every node,
  this one included, re-emits it to its local room members), then the event's
  ack answers ``{"id", "seq", "ts"}``.

Engine.IO pings are set to 10 minutes so that a benchmark never sees one.

Run: ``PEER_REDIS_URL=redis://… uvicorn loadtests.peers.socketio_server:app --port P``
(the bench adds ``--loop uvloop --http httptools --ws websockets-sansio``).
"""

from __future__ import annotations

import os
import time
from typing import Any

import socketio

# redis-py 8 caps a pool at 100 connections; AsyncRedisManager awaits one PUBLISH per emit, so
# with more than 100 emits in flight the pool raises, the manager drops its client and builds a
# new one per retry (measured: 1:1 fell to ~100 msgs/s at 1 600 sends in flight). A larger pool
# is the first fix a team would make; PEER_SIO_POOL=100 reproduces the default.
manager = socketio.AsyncRedisManager(
    os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/0"),
    redis_options={"max_connections": int(os.environ.get("PEER_SIO_POOL", "4000"))},
)
sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=manager,
    ping_interval=600,
    ping_timeout=600,
    cors_allowed_origins="*",
    transports=["websocket"],
)
app = socketio.ASGIApp(sio, socketio_path="socket.io")
state = {"seq": 0}


@sio.on("hello")
async def hello(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    user = data["user"]
    await sio.save_session(sid, {"user": user})
    await sio.enter_room(sid, f"u:{user}")
    if data.get("group"):
        await sio.enter_room(sid, f"g:{data['group']}")
    return {"t": "welcome", "user": user}


@sio.on("send")
async def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    session = await sio.get_session(sid)
    state["seq"] += 1
    seq = state["seq"]
    ts = int(time.time() * 1000)
    target = data.get("group") or data["to"]
    room = f"g:{target}" if "group" in data else f"u:{target}"
    m = {
        "conv": target,
        "seq": seq,
        "mid": f"m{seq}",
        "sender": session["user"],
        "kind": "text",
        "body": data["body"],
        "ts": ts,
    }
    await sio.emit("msg", {"m": m}, to=room)
    return {"id": data["id"], "seq": seq, "ts": ts}
