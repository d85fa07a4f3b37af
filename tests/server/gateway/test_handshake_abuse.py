"""Hostile handshakes over loopback get a clean HTTP answer, in order (issue 10, item 15).

A duplicate ``Origin``, an upgrade with a body (``Content-Length`` / ``Transfer-Encoding``),
an obs-folded header or a NUL in a header each get a 4xx response — not a dropped socket or
"Fatal error on transport" in the log — whether the upgrade is the socket's first request or
follows a kept-alive HTTP request; and an HTTP request pipelined before an upgrade gets its
response before the ``101``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames
from tests.harness import RunningNode, running_node
from tests.server.gateway.test_handshake import _masked, _read_frame_payload

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = (
    ("Host", "localhost"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
)
ALLOWED = "https://app.example"


def head(*headers: tuple[str, str], line: str = "GET /ws HTTP/1.1") -> bytes:
    return (line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()


def upgrade(*extra: tuple[str, str], raw: bytes = b"") -> bytes:
    """An otherwise valid upgrade request with ``extra`` headers (``raw`` spliced in as is)."""
    return head(*UPGRADE, *extra)[:-2] + raw + b"\r\n"


HOSTILE = {
    "duplicate-origin": upgrade(("Origin", ALLOWED), ("Origin", "https://evil.example")),
    "duplicate-allowed-origin": upgrade(("Origin", ALLOWED), ("Origin", ALLOWED)),
    "content-length": upgrade(("Content-Length", "5")) + b"hello",
    "transfer-encoding": upgrade(("Transfer-Encoding", "chunked")) + b"5\r\nhello\r\n0\r\n\r\n",
    "obs-fold": upgrade(raw=b"X-Folded: first\r\n  second\r\n"),
    "nul-in-header": upgrade(raw=b"X-Nul: a\x00b\r\n"),
}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path, allowed_origins=(ALLOWED,)) as running:
        yield running


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP response: its head and (by Content-Length) its body."""
    response_head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = 0
    for line in response_head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return response_head, await asyncio.wait_for(reader.readexactly(length), 5)


def transport_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("after_keep_alive", [False, True], ids=["first-request", "after-keep-alive"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_a_hostile_handshake_gets_a_clean_4xx(
    node: RunningNode, caplog: pytest.LogCaptureFixture, name: str, after_keep_alive: bool
) -> None:
    caplog.set_level(logging.WARNING)
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    if after_keep_alive:
        writer.write(head(("Host", "localhost"), line="GET /healthz HTTP/1.1"))
        ok, _ = await read_response(reader)
        assert ok.startswith(b"HTTP/1.1 200"), ok
    writer.write(HOSTILE[name])
    try:
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    except asyncio.IncompleteReadError as exc:
        pytest.fail(f"{name}: the socket was dropped without a response ({exc.partial!r})")
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer
    writer.close()
    await asyncio.sleep(0.05)
    assert transport_errors(caplog) == []
    # The node keeps serving handshakes.
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    writer.write(upgrade(("Origin", ALLOWED)))
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).startswith(b"HTTP/1.1 101")
    writer.close()


async def test_a_request_pipelined_before_an_upgrade_is_answered_first(
    node: RunningNode, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    writer.write(head(("Host", "localhost"), line="GET /healthz HTTP/1.1") + upgrade(("Origin", ALLOWED)))
    first, body = await read_response(reader)
    assert first.startswith(b"HTTP/1.1 200"), (first, body)
    assert body == b'{"status":"ok"}'
    second = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert second.startswith(b"HTTP/1.1 101"), second
    writer.close()
    assert transport_errors(caplog) == []


async def test_two_requests_pipelined_before_an_upgrade_keep_their_order(node: RunningNode) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    health = head(("Host", "localhost"), line="GET /healthz HTTP/1.1")
    ready = head(("Host", "localhost"), line="GET /readyz HTTP/1.1")
    writer.write(ready + health + upgrade(("Origin", ALLOWED)))
    first, _ = await read_response(reader)
    second, body = await read_response(reader)
    assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")
    assert body == b'{"status":"ok"}', "responses in request order"
    third = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert third.startswith(b"HTTP/1.1 101"), third
    # And the socket is a working WebSocket now.
    writer.write(_masked(encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("erin")))))
    welcome = ServerDecoder().decode(await asyncio.wait_for(_read_frame_payload(reader), 5))
    assert isinstance(welcome, frames.Welcome) and welcome.user == "erin"
    writer.close()
