"""The gateway's own WebSocket protocol over loopback: handshake refusals, control frames,
fragmented messages, closing handshakes and uvicorn's HTTP beside it on the same port."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames
from tests.harness import RunningNode, running_node


async def test_other_paths_are_refused_with_404_and_http_still_works(node: RunningNode) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(node.url.replace("/ws", "/elsewhere"))
    assert refused.value.response.status_code == 404
    async with httpx.AsyncClient(base_url=node.http) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/ws")).status_code == 426, "plain HTTP on /ws is told to upgrade"


async def test_a_draining_node_refuses_new_upgrades_with_503(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        node.node.draining = True
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(node.url)
        assert refused.value.response.status_code == 503
        node.node.draining = False


async def test_fragmented_binary_message_is_one_frame_and_pings_are_answered(node: RunningNode) -> None:
    ws = await websockets.connect(node.url, compression=None)
    hello = encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("alice")))
    # The same hello split over three WebSocket fragments.
    await ws.send([hello[:5], hello[5:20], hello[20:]])
    decoder = ServerDecoder()
    welcome = decoder.decode(await asyncio.wait_for(ws.recv(), 5))  # type: ignore[arg-type]
    assert isinstance(welcome, frames.Welcome)
    latency = await asyncio.wait_for(await ws.ping(), 5)
    assert latency >= 0, "a WebSocket ping gets its pong"
    await ws.close()


async def test_client_close_completes_the_handshake_and_the_node_forgets_it(node: RunningNode) -> None:
    ws = await websockets.connect(node.url, compression=None)
    await ws.send(encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("carol"))))
    await ws.recv()
    assert node.node.hub.devices(node.app.app, "carol")
    await ws.close(1000, "bye")
    assert ws.close_code == 1000, "the server answered our close frame"
    for _ in range(100):
        if not node.node.hub.devices(node.app.app, "carol"):
            break
        await asyncio.sleep(0.02)
    assert not node.node.hub.devices(node.app.app, "carol")


async def test_protocol_violation_closes_only_that_connection(node: RunningNode) -> None:
    bad = await websockets.connect(node.url, compression=None)
    good = await websockets.connect(node.url, compression=None)
    await good.send(encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("dave"))))
    await good.recv()
    # A continuation frame with no message to continue: RFC 6455 says fail the connection (1002).
    bad.protocol.send_frame(Frame(Opcode.CONT, b"x"))
    bad.send_data()  # type: ignore[attr-defined]
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(bad.recv(), 5)
    assert bad.close_code == 1002
    await good.send(encode(frames.Ping(ts=7)))
    pong = ServerDecoder().decode(await asyncio.wait_for(good.recv(), 5))  # type: ignore[arg-type]
    assert isinstance(pong, frames.Pong) and pong.ts == 7
    await good.close()


def _upgrade(path: str = "/ws") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


async def _raw_request(node: RunningNode, *chunks: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.02)  # separate TCP segments
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    return head


async def test_a_request_line_split_across_segments_still_upgrades(node: RunningNode) -> None:
    request = _upgrade()
    head = await _raw_request(node, request[:2], request[2:9], request[9:40], request[40:])
    assert head.startswith(b"HTTP/1.1 101"), head


async def test_paths_that_only_start_like_the_gateway_are_http(node: RunningNode) -> None:
    head = await _raw_request(node, b"GET /wsx HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404"), head
    head = await _raw_request(node, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head


async def test_an_upgrade_after_an_http_request_on_the_same_connection_works(node: RunningNode) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
    )
    await reader.readexactly(length)
    writer.write(_upgrade())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    writer.close()
