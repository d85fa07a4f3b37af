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


class Inbox:
    """Per-user arrival times of the campaign's message."""

    def __init__(self, users: list[str]) -> None:
        self.expected = len(users)
        self.campaign = ""
        self.first: dict[str, int] = {}
        self.repeats = 0
        self.other = 0
        self.kinds: dict[str, int] = {}

    def reset(self, campaign: str) -> None:
        """Count ``campaign``'s messages from now on."""
        self.campaign, self.first, self.repeats, self.other, self.kinds = campaign, {}, 0, 0, {}

    def handler(self, user: str) -> Any:
        """The frame callback of ``user``'s connection: a cheap type check, a decode for ``msg``."""

        def on_frame(data: bytes) -> None:
            kind = kind_of(data)
            self.kinds[kind.decode(errors="replace")] = self.kinds.get(kind.decode(errors="replace"), 0) + 1
            if kind != MSG or not self.campaign:
                return
            body = dec(data)["m"]["body"]
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
        client.handler = inbox.handler(user)
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
            "other": inbox.other, "first_ns": times[0] if times else 0, "last_ns": times[-1] if times else 0,
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
