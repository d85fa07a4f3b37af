"""Online recipients of the campaign benchmark: one process holding many authenticated connections.

Run by ``loadtests/bench_campaign.py`` (several of these, so the clients do not share one core
with each other): ``python -m loadtests.bench.campaign_clients '<json spec>'`` with ``port``,
``app``, ``secret``, ``users`` (the chat users to connect as) and ``campaign`` (the marker id
to count; may be set later on stdin). It connects every user (``hello`` → ``welcome``), prints
``{"ready": n}``, then reads a campaign id from stdin. From then on every ``msg``
frame carrying that campaign's marker is counted per user with its arrival time
(``time.perf_counter_ns``: CLOCK_MONOTONIC, comparable across processes on one machine). When
the next line comes (the campaign is done) it prints one JSON line of results: how many users
got it, how many got it more than once, the first and last arrival; then the next campaign id,
until stdin ends.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import msgspec
import uvloop

from loadtests.bench.loadgen import MSG, Target, kind_of
from loadtests.bench.wsclient import WSClient

dec = msgspec.msgpack.decode
enc = msgspec.msgpack.encode
CONV_EVENT = b"\xaacon"  # kind_of: the type's msgpack str header and its first bytes
RESYNC = b"\xa6res"


class Inbox:
    """Per-user arrival times of the campaign's message."""

    def __init__(self, users: list[str]) -> None:
        self.expected = len(users)
        self.campaign = ""
        self.first: dict[str, int] = {}
        self.repeats = 0
        self.other = 0
        self.kinds: dict[str, int] = {}
        #: Messages received again with a seq already seen (dropped, as the SDK's stream tracker does).
        self.replays = 0

    def reset(self, campaign: str) -> None:
        """Count ``campaign``'s messages from now on."""
        self.campaign, self.first, self.repeats, self.other, self.kinds = campaign, {}, 0, 0, {}
        self.replays = 0

    def handler(self, user: str, client: WSClient) -> Any:
        """The frame callback of ``user``'s connection: a cheap type check, a decode for ``msg``;
        like the SDK, it answers ``resync`` with ``sync`` from the position its ``conv_event`` gave
        (the server sends one after a join whose first messages the node may have missed)."""
        positions: dict[str, dict[str, Any]] = {}
        requests = iter(range(1, 1 << 62))

        def on_frame(data: bytes) -> None:
            kind = kind_of(data)
            self.kinds[kind.decode(errors="replace")] = self.kinds.get(kind.decode(errors="replace"), 0) + 1
            if kind == CONV_EVENT:
                conv = dec(data)["conv"]
                positions[conv["conv"]] = {"conv": conv["conv"], "seq": conv.get("last_seq", 0),
                                           "epoch": conv.get("epoch", "")}  # fmt: skip
                return
            if kind == RESYNC:
                wanted = [positions[c] for c in dec(data).get("convs", []) if c in positions]
                if wanted:
                    client.send(enc({"t": "sync", "id": next(requests), "positions": wanted}))
                return
            if kind != MSG or not self.campaign:
                return
            message = dec(data)["m"]
            position = positions.get(message["conv"])
            if position is not None:
                if message["seq"] <= position["seq"]:
                    self.replays += 1  # had it already (a sync's replay): the SDK drops it too
                    return
                position["seq"] = message["seq"]
            body = message["body"]
            marker = body.get("campaign") if isinstance(body, dict) else None
            if not isinstance(marker, dict) or marker.get("id") != self.campaign:
                self.other += 1
                return
            if user in self.first:
                self.repeats += 1
            else:
                self.first[user] = time.perf_counter_ns()

        return on_frame


async def run(spec: dict[str, Any]) -> None:
    """Connect, report ready; per campaign id read from stdin, count its messages until the next
    line and print the results; stop at the end of stdin."""
    target = Target({"target": "parley", "port": spec["port"], "app": spec["app"],
                     "secret": spec["secret"], "pids": {"server": 0}})  # fmt: skip
    users: list[str] = spec["users"]
    inbox = Inbox(users)
    t0 = time.perf_counter()
    clients: list[WSClient] = await target.open_many(users, concurrency=spec.get("concurrency", 50))
    for user, client in zip(users, clients, strict=True):
        client.handler = inbox.handler(user, client)
    print(json.dumps({"ready": len(clients), "connect_s": round(time.perf_counter() - t0, 1)}), flush=True)
    loop = asyncio.get_running_loop()
    beat = loop.create_task(_heartbeat(clients))
    while cid := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        inbox.reset(cid)
        # the next line says the campaign is done: a late or repeated message would have come by then
        await loop.run_in_executor(None, sys.stdin.readline)
        times = sorted(inbox.first.values())
        print(json.dumps({
            "users": len(users), "got": len(inbox.first), "repeats": inbox.repeats,
            "closed_early": sum(1 for c in clients if c.closed.done()), "kinds": inbox.kinds,
            "other": inbox.other, "replays": inbox.replays, "first_ns": times[0] if times else 0, "last_ns": times[-1] if times else 0,
        }), flush=True)  # fmt: skip
    beat.cancel()
    for c in clients:
        c.close()


async def _heartbeat(clients: list[WSClient], every: float = 20.0) -> None:
    """The protocol's ``ping`` (the server closes a connection silent for 75 s with 4009)."""
    ping = msgspec.msgpack.encode({"t": "ping"})
    while True:
        await asyncio.sleep(every)
        for c in clients:
            if not c.closed.done():
                c.send(ping)


def main() -> None:
    """``python -m loadtests.bench.campaign_clients '<json spec>'``."""
    uvloop.run(run(json.loads(sys.argv[1])))


if __name__ == "__main__":
    main()
