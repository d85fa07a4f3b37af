"""The handshake fast path, with websockets' ServerProtocol as the oracle, and over loopback.

Property: whenever the fast path accepts a request, websockets accepts it too and answers with
the same ``Sec-WebSocket-Accept``; requests it declines go to websockets (tested in
``test_transport.py`` and below over a real socket).
"""

from __future__ import annotations

import asyncio
import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.server import ServerProtocol

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames
from parley.server.gateway.handshake import accept_fast
from parley.server.gateway.wsframe import binary_frame
from tests.harness import RunningNode

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example: its accept is below
RFC_ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def request(*headers: tuple[str, str], line: str = "GET /ws HTTP/1.1") -> bytes:
    return (line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()


STANDARD = (
    ("Host", "localhost:8700"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
)


def websockets_verdict(data: bytes, *, deflate: bool = False) -> tuple[int, str | None]:
    """What websockets answers to ``data``: status and Sec-WebSocket-Accept."""
    extensions = [ServerPerMessageDeflateFactory()] if deflate else None
    protocol = ServerProtocol(extensions=extensions)
    protocol.receive_data(data)
    events = protocol.events_received()
    if not events or not isinstance(events[0], Request):
        return 400, None
    response = protocol.accept(events[0])
    return response.status_code, response.headers.get("Sec-WebSocket-Accept")


def test_the_rfc_example_is_accepted_with_the_rfc_accept_key() -> None:
    accepted = accept_fast(request(*STANDARD) + b"\x82\x00", negotiate_extensions=False)
    assert accepted is not None
    assert b"Sec-WebSocket-Accept: " + RFC_ACCEPT + b"\r\n" in accepted.response
    assert accepted.response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert accepted.path == "/ws" and accepted.origin is None
    assert accepted.rest == b"\x82\x00", "bytes after the head are kept for the frame parser"


def test_browser_style_requests_are_accepted() -> None:
    browser = (
        ("Host", "chat.example.com"),
        ("Connection", "keep-alive, Upgrade"),
        ("Upgrade", "WebSocket"),
        ("Origin", "https://shop.example.com"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", base64.b64encode(bytes(range(16))).decode()),
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
        ("User-Agent", "Mozilla/5.0"),
    )
    accepted = accept_fast(request(*browser, line="GET /ws?v=1 HTTP/1.1"), negotiate_extensions=False)
    assert accepted is not None and accepted.origin == "https://shop.example.com"
    assert accepted.path == "/ws?v=1"
    assert b"Sec-WebSocket-Extensions" not in accepted.response, "extensions are not negotiated"
    status, _ = websockets_verdict(request(*browser))
    assert status == 101


@pytest.mark.parametrize(
    "data",
    [
        request(*STANDARD, line="POST /ws HTTP/1.1"),
        request(*STANDARD, line="GET /ws HTTP/1.0"),
        request(*(h for h in STANDARD if h[0] != "Connection")),
        request(*(h for h in STANDARD if h[0] != "Upgrade")),
        request(*STANDARD, ("Upgrade", "h2c")),
        request(*(h for h in STANDARD if h[0] != "Sec-WebSocket-Key")),
        request(*STANDARD, ("Sec-WebSocket-Key", KEY)),
        request(*(h for h in STANDARD if h[0] != "Sec-WebSocket-Key"), ("Sec-WebSocket-Key", "c2hvcnQ=")),
        request(*(h for h in STANDARD if h[0] != "Sec-WebSocket-Key"), ("Sec-WebSocket-Key", "!" * 24)),
        request(*(h for h in STANDARD if h[0] != "Sec-WebSocket-Version"), ("Sec-WebSocket-Version", "8")),
        request(*STANDARD, ("Origin", "https://a.example"), ("Origin", "https://b.example")),
        request(*STANDARD, ("Content-Length", "0")),
        b"GET /ws HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ],
    ids=[
        "post",
        "http-1.0",
        "no-connection",
        "no-upgrade",
        "two-upgrades",
        "no-key",
        "two-keys",
        "short-key",
        "bad-key",
        "old-version",
        "two-origins",
        "body",
        "malformed",
        "tls-hello",
    ],
)
def test_anything_unusual_is_left_to_websockets(data: bytes) -> None:
    assert accept_fast(data, negotiate_extensions=False) is None


def test_an_extension_offer_is_left_to_websockets_when_the_server_negotiates() -> None:
    offer = request(*STANDARD, ("Sec-WebSocket-Extensions", "permessage-deflate"))
    assert accept_fast(offer, negotiate_extensions=True) is None
    assert accept_fast(offer, negotiate_extensions=False) is not None


header_value = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","), max_size=12
)
optional_headers = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Connection",
                "connection",
                "Upgrade",
                "UPGRADE",
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Version",
                "Sec-WebSocket-Extensions",
                "Sec-WebSocket-Protocol",
                "Origin",
                "X-Custom",
            ]
        ),
        st.one_of(
            st.sampled_from(["Upgrade", "websocket", "keep-alive, Upgrade", "13", KEY, "", "upgrade,x"]),
            header_value,
        ),
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    base=st.lists(st.sampled_from(STANDARD), unique=True),
    extra=optional_headers,
    line=st.sampled_from(
        ["GET /ws HTTP/1.1", "GET /ws?x=1 HTTP/1.1", "GET /ws HTTP/1.0", "PUT /ws HTTP/1.1"]
    ),
    deflate=st.booleans(),
)
def test_whatever_the_fast_path_accepts_websockets_accepts_alike(
    base: list[tuple[str, str]], extra: list[tuple[str, str]], line: str, deflate: bool
) -> None:
    data = request(*base, *extra, line=line)
    accepted = accept_fast(data, negotiate_extensions=deflate)
    if accepted is None:
        return
    status, accept = websockets_verdict(data, deflate=deflate)
    assert status == 101
    assert accept is not None and f"Sec-WebSocket-Accept: {accept}\r\n".encode() in accepted.response


async def _read_frame_payload(reader: asyncio.StreamReader) -> bytes:
    first, second = await reader.readexactly(2)
    assert first == 0x82, "an unmasked binary frame"
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return await reader.readexactly(length)


def _masked(payload: bytes) -> bytes:
    frame = bytearray(binary_frame(payload))
    # Clients mask: set the mask bit and XOR with a zero key (allowed: the key is arbitrary).
    header_len = len(frame) - len(payload)
    frame[1] |= 0x80
    return bytes(frame[:header_len]) + b"\x00\x00\x00\x00" + payload


async def test_a_hello_in_the_same_segment_as_the_handshake_is_answered(node: RunningNode) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    hello = encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("erin")))
    writer.write(request(*STANDARD) + _masked(hello))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101") and RFC_ACCEPT in head
    welcome = ServerDecoder().decode(await asyncio.wait_for(_read_frame_payload(reader), 5))
    assert isinstance(welcome, frames.Welcome) and welcome.user == "erin"
    writer.close()


async def test_a_handshake_sent_byte_by_byte_upgrades(node: RunningNode) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    for byte in request(*STANDARD):
        writer.write(bytes([byte]))
        await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    writer.close()


async def test_a_declined_handshake_gets_websockets_answer_and_others_still_connect(
    node: RunningNode,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    no_key = request(*(h for h in STANDARD if h[0] != "Sec-WebSocket-Key"))
    writer.write(no_key)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 400"), head
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 9000 + b"\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.split(b" ")[1] in (b"400", b"431"), head
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    writer.write(request(*STANDARD))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    writer.close()
