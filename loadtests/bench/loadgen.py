"""The load generator: one asyncio (uvloop) process that runs the scenarios against one server.

Run by the orchestrator (``python -m loadtests.bench``) pinned to its own core:
``python -m loadtests.bench.loadgen '<json spec>'``; prints one JSON line of results.

Scenarios (each opens its own connections and closes them at the end):

``idle``
    open ``warm`` connections, read the server's RSS, open ``idle`` more
    authenticated connections (``hello`` → ``welcome``, ``concurrency`` at a
    time, timed: connects+auth/s), wait, read RSS again: KiB per connection.
``pairs``
    ``pairs`` senders, each in a direct conversation with its own receiver;
    every sender keeps ``window`` sends in flight (a new send per ``ack``).
    Counts acks (persisted messages) and deliveries to the receivers in the
    measuring window; every delivery is decoded for its send→deliver latency
    (the sender writes ``time.perf_counter_ns()`` into the text; both ends run
    on one machine and CLOCK_MONOTONIC is system-wide).
``fanout``
    one group of ``members`` connections; one sender. Saturation: the sender
    keeps ``window`` messages in flight, where in flight means not yet acked
    *or* not yet delivered to a sentinel member, so the server's outbound
    queues stay bounded (no slow-consumer closes); every member counts
    ``msg`` frames by their first bytes (no decode) and ``samples`` members
    decode for latency. Then a fixed ``rate`` (msgs/s, × members deliveries/s)
    where every delivery is decoded for latency.

Both servers get MessagePack frames shaped alike (see ``baseline.py``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import jwt
import msgspec
import uvloop

from loadtests.bench.procstat import CpuMeter, cpu_seconds, rss_bytes
from loadtests.bench.wsclient import WSClient, connect

enc = msgspec.msgpack.encode
dec = msgspec.msgpack.decode
now_ns = time.perf_counter_ns

# msgspec (server) and this module (baseline, and our own frames) write the "t" key first:
# <map header> 0xa1 't' <str header> <type>, so a frame's type is readable from its first bytes.
ACK = b"\xa3ack"
MSG = b"\xa3msg"
PAD = "x" * 48  # a short chat line: "<perf_counter_ns>:xxxx…" is ~68 bytes of text


def kind_of(data: bytes) -> bytes:
    return data[3:7]


def pct(values: list[int], p: float) -> float:
    """p-th percentile in milliseconds of nanosecond samples (nearest rank)."""
    if not values:
        return float("nan")
    values.sort()
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return round(values[k] / 1e6, 2)


SIO_ACK = b"43"
SIO_MSG = b'42["msg"'
OTHER = b"?"


def kind_of_sio(data: bytes) -> bytes:
    """Socket.IO over Engine.IO text packets: ``43<id>[…]`` is an ack, ``42["msg",…]`` an event."""
    if data[:2] == SIO_ACK:
        return ACK
    if data[:8] == SIO_MSG:
        return MSG
    return OTHER


def text_of(data: bytes) -> str:
    text: str = dec(data)["m"]["body"]["text"]
    return text


def text_of_sio(data: bytes) -> str:
    text: str = json.loads(data[2:])[1]["m"]["body"]["text"]
    return text


class Target:
    """What differs between servers: hello, the send frame, how acks and deliveries look.

    ``parley``: the Parley protocol (token in ``hello``, conversations).
    ``plain``: the baseline's MessagePack dialect (baseline, Redis relay, Channels).
    ``socketio``: Socket.IO v5 / Engine.IO v4 text packets over a raw WebSocket
    (handshake ``0{…}`` → ``40`` → ``40{…}``; events ``42[…]``, acks ``43<id>[…]``).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.kind: str = spec["target"]
        self.host: str = spec.get("host", "127.0.0.1")
        self.port: int = spec["port"]
        self.app: str = spec.get("app", "")
        self.secret: str = spec.get("secret", "")
        self.pids: dict[str, int] = spec.get("pids", {})
        self.server_pid: int = self.pids["server"]
        self.parley = self.kind == "parley"
        #: Whether the sender's own connection also receives its group message (the peers'
        #: broadcasts do; Parley does not: the ack carries it).
        self.echo = not self.parley
        self.sio = self.kind == "socketio"
        self.deflate: bool = bool(spec.get("deflate"))
        self.server_core: str = spec.get("server_core", "0")
        self.client_core: str = spec.get("client_core", "1")
        self.kind_of: Callable[[bytes], bytes] = kind_of_sio if self.sio else kind_of
        self.text_of: Callable[[bytes], str] = text_of_sio if self.sio else text_of

    def usage(self, cpu: dict[str, float]) -> dict[str, float]:
        """Add the load of other people's processes on our two cores (a shared machine)."""
        ours = sum(v for k, v in cpu.items() if k in self.pids)
        cpu["others_on_server_core"] = round(max(0.0, cpu.get("core" + self.server_core, 0.0) - ours), 1)
        cpu["others_on_client_core"] = round(
            max(0.0, cpu.get("core" + self.client_core, 0.0) - cpu["generator"]), 1
        )
        return cpu

    def hello(self, user: str, group: str | None = None) -> bytes:
        if not self.parley:
            return enc({"t": "hello", "user": user, "group": group})
        now = int(time.time())
        token = jwt.encode(
            {"iss": self.app, "sub": user, "aud": "parley", "iat": now, "exp": now + 3600},
            self.secret,
            algorithm="HS256",
        )
        return enc({"t": "hello", "v": 1, "token": token})

    def send(self, client: WSClient, request_id: int, dest: dict[str, str]) -> None:
        frame: dict[str, Any] = {"t": "send", "id": request_id, **dest, "body": {"text": f"{now_ns()}:{PAD}"}}
        if self.sio:
            client.send_text(b'42%d["send",%s]' % (request_id, json.dumps(frame).encode()))
            return
        if self.parley:
            frame["cmid"] = f"c{request_id}"
        client.send(enc(frame))

    async def open(self, user: str, group: str | None = None) -> WSClient:
        if self.sio:
            return await self._open_sio(user, group)
        client = await connect(self.host, self.port, deflate=self.deflate)
        client.send(self.hello(user, group))
        while True:
            frame = dec(await client.recv(30))
            if frame.get("t") == "welcome":
                return client
            if frame.get("t") == "error":
                client.close()
                raise ConnectionError(f"hello refused: {frame}")

    async def _open_sio(self, user: str, group: str | None) -> WSClient:
        client = await connect(self.host, self.port, "/socket.io/?EIO=4&transport=websocket")
        opened = await client.recv(30)
        if not opened.startswith(b"0{"):
            raise ConnectionError(f"no Engine.IO open packet: {opened!r}")
        client.send_text(b"40")
        connected = await client.recv(30)
        if not connected.startswith(b"40"):
            raise ConnectionError(f"Socket.IO connect refused: {connected!r}")
        client.send_text(b'420["hello",%s]' % json.dumps({"user": user, "group": group}).encode())
        while True:
            packet = await client.recv(30)
            if packet.startswith(b"430"):
                return client
            if packet == b"2":  # Engine.IO ping
                client.send_text(b"3")

    async def open_many(
        self, users: list[str], concurrency: int = 50, group: str | None = None
    ) -> list[WSClient]:
        sem = asyncio.Semaphore(concurrency)

        async def one(user: str) -> WSClient:
            async with sem:
                return await self.open(user, group)

        return list(await asyncio.gather(*(one(u) for u in users)))


async def expect(
    client: WSClient, pred: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = dec(await client.recv(max(0.01, deadline - time.monotonic())))
        if pred(frame):
            return frame
        if frame.get("t") == "error":
            raise RuntimeError(f"server error: {frame}")


async def settle(pid: int, idle_pct: float = 8.0, limit: float = 30.0) -> float:
    """Wait until the server uses < ``idle_pct`` % CPU over 0.5 s (background writes done)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if (cpu_seconds(pid) - before) / 0.5 * 100 < idle_pct:
            break
    return round(time.monotonic() - start, 1)


async def wait_until(done: Callable[[], bool], timeout: float) -> None:
    """Poll ``done`` (state changed by protocol callbacks) until true or ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110 - callbacks, no event to wait on
        await asyncio.sleep(0.05)


def close_all(clients: list[WSClient]) -> None:
    for c in clients:
        c.close()


# ----------------------------------------------------------------- idle
async def scenario_idle(t: Target, p: dict[str, Any]) -> dict[str, Any]:
    warm = await t.open_many([f"w{i}" for i in range(p["warm"])], p["concurrency"])
    await settle(t.server_pid)
    gc.collect()
    cpu = CpuMeter(t.pids)
    cpu.start()
    rss0 = rss_bytes(t.server_pid)
    redis0 = rss_bytes(t.pids["redis"]) if "redis" in t.pids else 0
    n = p["idle"]
    started, cpu0 = time.perf_counter(), cpu_seconds(t.server_pid)
    idle = await t.open_many([f"i{i}" for i in range(n)], p["concurrency"])
    elapsed, storm_cpu = time.perf_counter() - started, cpu_seconds(t.server_pid) - cpu0
    await asyncio.sleep(1.0)
    await settle(t.server_pid)
    rss1 = rss_bytes(t.server_pid)
    out = {
        "cpu_pct": t.usage(cpu.stop()),
        "connections": n,
        "connects_per_s": round(n / elapsed),
        # server CPU during the storm only: whether it was CPU-bound (≈ 1000 / connects_per_s)
        "server_cpu_ms_per_connect": round(storm_cpu / n * 1000, 3),
        "kib_per_conn": round((rss1 - rss0) / n / 1024, 1),
        "server_rss_mib": round(rss1 / 2**20, 1),
    }
    if "redis" in t.pids:
        out["redis_kib_per_conn"] = round((rss_bytes(t.pids["redis"]) - redis0) / n / 1024, 2)
    close_all(warm + idle)
    out["settle_s"] = await settle(t.server_pid)
    return out


# ----------------------------------------------------------------- pairs
async def scenario_pairs(t: Target, p: dict[str, Any]) -> dict[str, Any]:
    n, window = p["pairs"], p["window"]
    kind_of, text_of = t.kind_of, t.text_of
    senders = await t.open_many([f"a{i}" for i in range(n)])
    receivers = await t.open_many([f"b{i}" for i in range(n)])
    if t.parley:

        async def create(i: int) -> dict[str, str]:
            senders[i].send(enc({"t": "conv_create", "id": 1, "kind": "direct", "members": [f"b{i}"]}))
            reply = await expect(senders[i], lambda f: f.get("t") == "conv" and f.get("id") == 1)
            return {"conv": reply["conv"]["conv"]}

        dests = list(await asyncio.gather(*(create(i) for i in range(n))))
        await asyncio.gather(*(expect(r, lambda f: f.get("t") == "conv_event") for r in receivers))
        await asyncio.sleep(0.5)
    else:
        dests = [{"to": f"b{i}"} for i in range(n)]
    for c in senders + receivers:
        c.drain_inbox()

    st = {
        "measuring": False,
        "running": True,
        "acked": 0,
        "delivered": 0,
        "acked_total": 0,
        "delivered_total": 0,
        "errors": 0,
        "sent": 0,
    }
    latencies: list[int] = []

    def sender_handler(client: WSClient, dest: dict[str, str]) -> Callable[[bytes], None]:
        next_id = [0]

        def send() -> None:
            next_id[0] += 1
            st["sent"] += 1
            t.send(client, next_id[0], dest)

        def on_frame(data: bytes) -> None:
            kind = kind_of(data)
            if kind == ACK:
                st["acked_total"] += 1
                if st["measuring"]:
                    st["acked"] += 1
                if st["running"]:
                    send()
            elif kind != MSG:  # a msg here is Parley's echo to the sender's own connection
                st["errors"] += 1

        client.handler = on_frame
        return send

    def on_delivery(data: bytes) -> None:
        if kind_of(data) != MSG:
            return
        st["delivered_total"] += 1
        if st["measuring"]:
            st["delivered"] += 1
            text = text_of(data)
            latencies.append(now_ns() - int(text[: text.index(":")]))

    starters = [sender_handler(s, d) for s, d in zip(senders, dests, strict=True)]
    for r in receivers:
        r.handler = on_delivery
    for _ in range(window):
        for send in starters:
            send()
    await asyncio.sleep(p["warmup"])
    cpu = CpuMeter(t.pids)
    cpu.start()
    st["measuring"] = True
    started = time.perf_counter()
    await asyncio.sleep(p["duration"])
    st["measuring"] = False
    elapsed = time.perf_counter() - started
    usage = cpu.stop()
    st["running"] = False
    await wait_until(
        lambda: st["acked_total"] + st["errors"] >= st["sent"] and st["delivered_total"] >= st["acked_total"],
        20,
    )
    out = {
        "pairs": n,
        "window": window,
        "acked_per_s": round(st["acked"] / elapsed),
        "delivered_per_s": round(st["delivered"] / elapsed),
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "sent": st["sent"],
        "unacked": st["sent"] - st["acked_total"],
        "undelivered": st["acked_total"] - st["delivered_total"],
        "errors": st["errors"],
        "cpu_pct": t.usage(usage),
    }
    close_all(senders + receivers)
    out["settle_s"] = await settle(t.server_pid)
    return out


# ----------------------------------------------------------------- fan-out
async def scenario_fanout(t: Target, p: dict[str, Any]) -> dict[str, Any]:
    m, window = p["members"], p["fanout_window"]
    recipients = m if t.echo else m - 1
    kind_of, text_of = t.kind_of, t.text_of
    users = [f"g{i}" for i in range(m)]
    conns = await t.open_many(users, group="grp")
    owner = conns[0]
    if t.parley:
        owner.send(enc({"t": "conv_create", "id": 1, "kind": "group", "members": users[1:], "name": "bench"}))
        reply = await expect(owner, lambda f: f.get("t") == "conv" and f.get("id") == 1, 120)
        dest = {"conv": reply["conv"]["conv"]}
        await asyncio.gather(*(expect(c, lambda f: f.get("t") == "conv_event", 120) for c in conns[1:]))
        await asyncio.sleep(1.0)
    else:
        dest = {"group": "grp"}
    for c in conns:
        c.drain_inbox()

    st = {
        "measuring": False,
        "running": True,
        "sent": 0,
        "acked": 0,
        "sentinel": 0,
        "count": 0,
        "total": 0,
        "errors": 0,
        "decode_all": False,
    }
    latencies: list[int] = []
    sentinel = conns[-1]
    sampled = set(conns[1 :: max(1, m // p["samples"])])
    next_id = [0]

    def send() -> None:
        next_id[0] += 1
        st["sent"] += 1
        t.send(owner, next_id[0], dest)

    def pump() -> None:
        while st["running"] and st["sent"] - st["acked"] < window and st["sent"] - st["sentinel"] < window:
            send()

    def member(client: WSClient) -> Callable[[bytes], None]:
        is_sample = client in sampled
        is_sentinel = client is sentinel
        is_owner = client is owner

        def on_frame(data: bytes) -> None:
            kind = kind_of(data)
            if kind == MSG:
                st["total"] += 1
                if st["measuring"]:
                    st["count"] += 1
                    if is_sample or st["decode_all"]:
                        text = text_of(data)
                        latencies.append(now_ns() - int(text[: text.index(":")]))
                if is_sentinel:
                    st["sentinel"] += 1
                    pump()
            elif is_owner and kind == ACK:
                st["acked"] += 1
                pump()
            else:
                st["errors"] += 1

        return on_frame

    for c in conns:
        c.handler = member(c)

    async def drain() -> None:
        await wait_until(lambda: st["acked"] >= st["sent"] and st["total"] >= st["sent"] * recipients, 30)

    # saturation
    pump()
    await asyncio.sleep(p["warmup"])
    cpu = CpuMeter(t.pids)
    cpu.start()
    acked0, st["measuring"] = st["acked"], True
    started = time.perf_counter()
    await asyncio.sleep(p["duration"])
    st["measuring"] = False
    elapsed = time.perf_counter() - started
    usage = cpu.stop()
    out: dict[str, Any] = {
        "members": m,
        "window": window,
        "deliveries_per_s": round(st["count"] / elapsed),
        "msgs_per_s": round((st["acked"] - acked0) / elapsed, 1),
        "sat_p50_ms": pct(latencies, 50),
        "sat_p99_ms": pct(latencies, 99),
        "sat_samples": len(latencies),
        "cpu_pct": t.usage(usage),
    }
    st["running"] = False
    await drain()
    out["sat_missing"] = st["sent"] * recipients - st["total"]

    # fixed moderate rate: every delivery decoded
    latencies.clear()
    st["count"] = 0
    st["decode_all"] = True
    rate, duration = p["rate"], p["rate_duration"]
    sent0, total0 = st["sent"], st["total"]
    st["measuring"] = True
    cpu.start()
    loop = asyncio.get_running_loop()
    begin = loop.time()
    for k in range(int(rate * duration)):
        delay = begin + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        send()
    await drain()
    st["measuring"] = False
    out.update(
        {
            "rate_msgs_per_s": rate,
            "rate_deliveries_per_s": rate * recipients,
            "rate_p50_ms": pct(latencies, 50),
            "rate_p99_ms": pct(latencies, 99),
            "rate_missing": (st["sent"] - sent0) * recipients - (st["total"] - total0),
            "rate_cpu_pct": t.usage(cpu.stop()),
            "errors": st["errors"],
        }
    )
    close_all(conns)
    out["settle_s"] = await settle(t.server_pid)
    return out


SCENARIOS = {"idle": scenario_idle, "pairs": scenario_pairs, "fanout": scenario_fanout}


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    target = Target(spec)
    results: dict[str, Any] = {}
    for name in spec["scenarios"]:
        results[name] = await SCENARIOS[name](target, spec["params"])
    return results


def main() -> None:
    spec = json.loads(sys.argv[1])
    results = uvloop.run(run(spec))
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
