"""Slow-loris: a socket that never finishes its request head is closed by the server.

Raw sockets against a real node, on the gateway path and on the HTTP side. The head
timeout is set small; each test asserts that the server closed the socket (read gives
EOF or a reset), never how long it took — the generous read deadline only keeps a
failing test from hanging.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.harness import running_node

#: Far above the head timeout the tests set: reaching it means the server never closed.
GIVE_UP = 8.0


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the socket (fails if it never does)."""
    received = b""
    try:
        async with asyncio.timeout(GIVE_UP):
            while chunk := await reader.read(65536):
                received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the socket open; it sent {received[:200]!r}")
    return received


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"GET /ws HTTP/1.1\r\nHost: x\r\n",
        b"GET /ws HTT",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        b"POST /v1/users HTTP/1.1\r\n",
        b"GE",
    ],
    ids=["nothing", "ws-headers", "ws-request-line", "http-headers", "http-request-line", "two-bytes"],
)
async def test_an_unfinished_request_head_is_closed(tmp_path: Path, head: bytes) -> None:
    async with running_node(tmp_path, head_timeout=0.5) as node:
        reader, writer = await _open(node.settings.port)
        writer.write(head)
        await _closed_by_server(reader)
        writer.close()


@pytest.mark.parametrize("path", [b"/ws", b"/healthz"])
async def test_a_dribbled_head_is_closed(tmp_path: Path, path: bytes) -> None:
    async with running_node(tmp_path, head_timeout=1.0) as node:
        reader, writer = await _open(node.settings.port)
        writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n")
        closed = asyncio.ensure_future(_closed_by_server(reader))
        for i in range(int(GIVE_UP / 0.1)):  # one header byte every 0.1 s, never the blank line
            if closed.done():
                break
            try:
                writer.write(b"X-a: b\r\n"[i % 8 : i % 8 + 1])
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.1)
        await closed
        writer.close()


async def test_a_kept_alive_connection_with_an_unfinished_next_request_is_closed(tmp_path: Path) -> None:
    async with running_node(tmp_path, head_timeout=0.5) as node:
        reader, writer = await _open(node.settings.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        await _closed_by_server(reader)
        writer.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\nHost: x\n\n",
        b"GET /ws HTTP/1.1\nHost: x\nUpgrade: websocket\nConnection: Upgrade\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n",
    ],
    ids=["http", "ws"],
)
async def test_lf_only_line_endings_are_answered_or_closed_at_once(
    tmp_path: Path, request_bytes: bytes
) -> None:
    # The head timeout is far away: only an answer (or a close) to the request itself ends this.
    async with running_node(tmp_path, head_timeout=600.0) as node:
        reader, writer = await _open(node.settings.port)
        writer.write(request_bytes)
        try:
            async with asyncio.timeout(GIVE_UP):
                first = await reader.read(65536)
        except TimeoutError:
            pytest.fail("an LF-only request got neither an answer nor a close")
        except ConnectionResetError:
            first = b""
        assert first == b"" or first.startswith(b"HTTP/1.1 ")
        writer.close()


async def test_a_finished_head_is_not_cut_by_the_head_timeout(tmp_path: Path) -> None:
    from parley.proto import frames
    from tests.wsclient import RawClient

    # The handshake must finish within the head timeout: 2 s leaves a loaded machine room.
    async with running_node(tmp_path, head_timeout=2.0) as node:
        client = await RawClient.connect(node.url, await node.token("alice"))
        await asyncio.sleep(3.0)  # past the head timeout: the WebSocket stays open
        await client.send(frames.Ping(ts=3))
        assert (await client.expect(frames.Pong)).ts == 3
        await client.close()


async def test_a_dribbled_request_body_is_closed(tmp_path: Path) -> None:
    async with running_node(tmp_path, body_timeout=1.0) as node:
        reader, writer = await _open(node.settings.port)
        writer.write(
            b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"
        )
        closed = asyncio.ensure_future(_closed_by_server(reader))
        for _ in range(int(GIVE_UP / 0.1)):  # one body byte every 0.1 s, never the whole body
            if closed.done():
                break
            try:
                writer.write(b" ")
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.1)
        await closed
        writer.close()
