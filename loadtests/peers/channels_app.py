"""Django Channels with ``channels_redis``: one ``AsyncWebsocketConsumer``.

Same MessagePack dialect as ``loadtests/bench/baseline.py``. ``hello`` adds
the consumer's channel to groups ``u.{user}`` (and ``g.{group}``); a ``send``
goes out with ``channel_layer.group_send`` (1:1 to the receiver's user group,
the idiomatic way to address a user in Channels), then the ``ack``.

Run: ``PEER_REDIS_URL=redis://… uvicorn loadtests.peers.channels_app:application --port P``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import django
import msgspec

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loadtests.peers.channels_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

_decode = msgspec.msgpack.decode
_encode = msgspec.msgpack.encode
state = {"seq": 0}


class Chat(AsyncWebsocketConsumer):
    user = ""
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for g in self.groups_joined:
            await self.channel_layer.group_discard(g, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame: dict[str, Any] = _decode(bytes_data or b"")
        kind = frame.get("t")
        if kind == "hello":
            self.user = frame["user"]
            self.groups_joined = [f"u.{self.user}"] + ([f"g.{frame['group']}"] if frame.get("group") else [])
            for g in self.groups_joined:
                await self.channel_layer.group_add(g, self.channel_name)
            await self.send(bytes_data=_encode({"t": "welcome", "user": self.user}))
        elif kind == "send":
            state["seq"] += 1
            seq = state["seq"]
            ts = int(time.time() * 1000)
            target = frame.get("group") or frame["to"]
            group = f"g.{target}" if "group" in frame else f"u.{target}"
            msg = _encode(
                {
                    "t": "msg",
                    "m": {
                        "conv": target,
                        "seq": seq,
                        "mid": f"m{seq}",
                        "sender": self.user,
                        "kind": "text",
                        "body": frame["body"],
                        "ts": ts,
                    },
                }
            )
            await self.channel_layer.group_send(group, {"type": "chat.msg", "data": msg})
            await self.send(bytes_data=_encode({"t": "ack", "id": frame["id"], "seq": seq, "ts": ts}))

    async def chat_msg(self, event: dict[str, Any]) -> None:
        await self.send(bytes_data=event["data"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws", Chat.as_asgi())])})
