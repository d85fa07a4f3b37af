"""A client that asks for big replies and never reads them is cut off by bytes, not after 2 048 frames.

The attack (issue 10, item 3): a socket that never reads sends ``history`` requests for pages of
large messages; with a queue bounded only in frames, each page (up to 4 MiB) was queued and the
node grew by gigabytes. The queue is bounded in bytes: the node's own account of its queues
(``OutboundLedger``) never passes the bound, and the client is closed as a slow consumer.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import websockets

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames
from tests.harness import running_node
from tests.wsclient import RawClient

BOUND = 1024 * 1024
BODY = 15_000
MESSAGES = 60  # a history page of 50 is ~750 KB: two pages pass the bound


async def test_a_deaf_client_asking_for_big_pages_is_cut_off_within_the_byte_bound(tmp_path: Path) -> None:
    async with running_node(tmp_path, outbound_queue_bytes=BOUND, rate_frames=0, rate_sends=0) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["deaf"])).conv.conv
        for i in range(MESSAGES):
            await alice.request(frames.Send, conv=conv, cmid=f"m{i}", body={"text": f"{i}:" + "x" * BODY})

        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", node.settings.port))
        deaf = await websockets.connect(node.url, sock=sock, max_size=None, max_queue=1)
        await deaf.send(encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("deaf"))))
        welcome = ServerDecoder().decode(await asyncio.wait_for(deaf.recv(), 30))  # type: ignore[arg-type]
        assert isinstance(welcome, frames.Welcome)
        deaf.transport.pause_reading()  # from now on it never reads
        try:
            for i in range(40):  # 40 pages of ~750 KB: 30 MB if each were queued
                await deaf.send(encode(frames.History(id=i + 1, conv=conv, limit=50)))
            ledger = node.node.outbound
            async with asyncio.timeout(60):
                while any(c.user == "deaf" for c in node.node.hub.connections):
                    await asyncio.sleep(0.05)
            assert ledger.peak_queued_bytes <= BOUND, f"queued {ledger.peak_queued_bytes} B past the bound"
            assert node.node.metrics.slow_consumers._value.get() == 1, "closed as a slow consumer"
            # Everyone else is served as before.
            again = await alice.request(frames.Send, conv=conv, cmid="after", body={"text": "still here"})
            assert isinstance(again, frames.Ack)
        finally:
            deaf.transport.abort()
            await alice.close()
