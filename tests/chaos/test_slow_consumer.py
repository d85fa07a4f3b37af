"""A slow consumer and clients that never read, in a flooded group, beside normal traffic.

The clients that do not read are cut off (their outbound queue is bounded in
frames and bytes), the node's queues stay bounded and share the fan-out frames
instead of copying them (read from the node's own account of its queues, not
from RSS), and everyone else — a reader in the same group on
the same node and the ordinary traffic — keeps their session and gets every
message exactly once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.request
from pathlib import Path

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames
from parley.sdk import Client, MessageEvent
from parley.server.auth.tokens import issue_token
from parley.server.settings import Settings
from tests.chaos.cluster import Cluster
from tests.chaos.traffic import Traffic, check
from tests.harness import running_node

# ~50 s on a 2-core machine: the flood must overflow an outbound queue through the slow Mongo server.
pytestmark = [pytest.mark.chaos, pytest.mark.timeout(150)]

FLOOD = 2600  # messages into the flooded group: more than an outbound queue holds (2048 frames, 8 MiB)
BODY = 15000  # characters of text each (the limit is 16 000)
DEAF = 3  # connections that never read
QUEUE_BYTES = Settings().outbound_queue_bytes  # the node's bound on one connection's queue


async def _raw(url: str, token: str, *, rcvbuf: int | None = None) -> ClientConnection:
    """An authenticated bare WebSocket; with ``rcvbuf`` a tiny kernel receive buffer."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    ws = await websockets.connect(url, sock=sock, max_size=None, max_queue=1, compression=None)
    await ws.send(encode(frames.Hello(v=PROTOCOL_VERSION, token=token, device="raw")))
    welcome = ServerDecoder().decode(await ws.recv())  # type: ignore[arg-type]
    assert isinstance(welcome, frames.Welcome), welcome
    return ws


async def _slow_reader(ws: ClientConnection, got: list[int]) -> None:
    decoder = ServerDecoder()
    with contextlib.suppress(websockets.ConnectionClosed):
        async for data in ws:
            frame = decoder.decode(data)  # type: ignore[arg-type]
            if isinstance(frame, frames.Msg):
                got.append(frame.m.seq)
            await asyncio.sleep(0.02)


async def _closed(ws: ClientConnection, timeout: float) -> bool:
    """Read whatever is left; True if the server ended the connection within ``timeout``."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            with contextlib.suppress(websockets.ConnectionClosed):
                async for _ in ws:
                    pass
            return True
    return False


async def test_slow_consumer_and_deaf_clients_do_not_hurt_others(cluster: Cluster) -> None:
    lb = await cluster.start(2, env={"PARLEY_RATE_SENDS": "0", "PARLEY_RATE_FRAMES": "0"})
    node = cluster.nodes[0]
    traffic = Traffic(lb.url, cluster.app, users=10, extra_devices=0)
    token = lambda user: issue_token(cluster.app, user)[0]  # noqa: E731
    flooders = [traffic.client(f"flood{i}", "main") for i in range(4)]
    reader = traffic.client("reader", "main")
    reader.url = node.url  # next to the deaf ones, on the same node
    deaf: list[ClientConnection] = []
    slow: ClientConnection | None = None
    slow_task: asyncio.Task[None] | None = None
    try:
        await traffic.setup()
        await asyncio.gather(reader.connect(), *(f.connect() for f in flooders))
        members = ["reader", "slow", *(f"deaf{i}" for i in range(DEAF)), *(f"flood{i}" for i in range(1, 4))]
        group = (await flooders[0].create_group("flood", members)).conv
        seen: list[int] = []
        reader.on(MessageEvent, lambda e: seen.append(e.message.seq) if e.message.conv == group else None)
        reader_session = reader.welcome.session if reader.welcome else ""
        deaf = [await _raw(node.url, token(f"deaf{i}"), rcvbuf=4096) for i in range(DEAF)]
        slow = await _raw(node.url, token("slow"))
        slow_got: list[int] = []
        slow_task = asyncio.create_task(_slow_reader(slow, slow_got))
        sessions = {(d.user, d.name): d.client.welcome.session for d in traffic.devices if d.client.welcome}
        await asyncio.sleep(1)
        rss_before = node.rss_kib()
        conns_on_node = int(node.metric("parley_connections") + node.metric("parley_connections_pending"))
        traffic.start()

        padding = "y" * BODY
        acked: list[int] = []

        workers = 8 * len(flooders)  # several sends in flight per flooder: group commit

        async def flood(worker: int) -> None:
            sender = flooders[worker % len(flooders)]
            for k in range(worker, FLOOD, workers):
                acked.append((await sender.send(group, f"{k}:{padding}", cmid=f"f{k}")).seq)

        await asyncio.gather(*(flood(w) for w in range(workers)))
        rss_peak = node.rss_kib()
        shared = node.metric("parley_outbound_shared_frames")
        held_peak = node.metric("parley_outbound_held_bytes_peak")
        queued_peak = node.metric("parley_outbound_queued_bytes_peak")
        await traffic.stop()
        counts = await check("slow consumer + deaf clients", traffic, cluster.store)
        cut = [await _closed(ws, 10) for ws in deaf]
        rss_after = node.rss_kib()
        last = (await cluster.store.get_conversation(cluster.app.app, group)).last_seq  # type: ignore[union-attr]
        async with asyncio.timeout(30):
            while (reader.positions.get(group, (0, ""))[0]) < last:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        print(
            f"[chaos] flood: {len(set(acked))} acked, reader saw {len(seen)} (dupes {len(seen) - len(set(seen))}), "
            f"slow reader got {len(slow_got)}, deaf cut {cut}, node RSS KiB before {rss_before} "
            f"peak {rss_peak} after {rss_after} (informational); queues: peak {queued_peak:.0f} B summed, "
            f"{held_peak:.0f} B distinct, {shared:.0f} frames shared, {conns_on_node} connections"
        )
        assert all(cut), "a client that never reads was not cut off"
        assert seen == sorted(set(seen)) and set(range(seen[0], last + 1)) == set(seen)
        assert set(acked) <= set(seen)
        assert reader.welcome is not None and reader.welcome.session == reader_session, "reader was cut off"
        moved = [k for k, s in sessions.items() if (w := traffic_device(traffic, k)) is None or w != s]
        assert not moved, f"ordinary clients lost their session: {moved}"
        # What the node holds is read from its own account of its queues (OutboundLedger), not
        # from RSS, which depends on the allocator and on everything else the process holds.
        # Fan-out frames are encoded once and shared: the three deaf queues hold the same frames,
        # so frames were queued while another queue held them, and the distinct bytes held stayed
        # below the per-connection sum. Per-connection copies would make both false.
        assert shared > 0, "no frame was shared between queues: fan-out copies frames per connection"
        assert held_peak < queued_peak, f"distinct bytes held {held_peak} = per-connection sum {queued_peak}"
        # The node stays bounded: no queue ever passed its byte bound, so all of them together
        # never held more than (connections on the node) x the bound.
        assert queued_peak <= conns_on_node * QUEUE_BYTES, f"{queued_peak} > {conns_on_node} x {QUEUE_BYTES}"
        assert held_peak <= FLOOD * (BODY + 300), "more distinct bytes queued than the flood sent"
        counts.assert_contract()
    finally:
        if slow_task is not None:
            slow_task.cancel()
        for ws in [*deaf, *([slow] if slow else [])]:
            ws.transport.abort()
        await asyncio.gather(reader.close(), *(f.close() for f in flooders), return_exceptions=True)
        await traffic.close()


def traffic_device(traffic: Traffic, key: tuple[str, str]) -> str | None:
    for d in traffic.devices:
        if (d.user, d.name) == key and d.client.welcome is not None:
            return d.client.welcome.session
    return None


async def test_slow_consumer_close_is_counted_in_metrics(tmp_path: Path) -> None:
    async with running_node(tmp_path, outbound_queue=64, rate_sends=0, rate_frames=0) as node:
        sender = Client(node.url, token=await node.token("alice"))
        async with sender:
            conv = (await sender.create_group("g", ["deaf"])).conv
            deaf = await _raw(node.url, await node.token("deaf"), rcvbuf=4096)
            try:
                padding = "z" * BODY
                for _ in range(60):  # 600 x 15 KB: more than the socket buffers and the queue hold
                    await asyncio.gather(*(sender.send(conv, padding) for _ in range(10)))
                assert await _closed(deaf, 10), "the deaf client was not cut off"
            finally:
                deaf.transport.abort()
        metrics = await asyncio.to_thread(_get, f"{node.http}/metrics")
        assert "parley_slow_consumer_closes_total 1.0" in metrics


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()
