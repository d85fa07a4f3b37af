"""A lean asyncio WebSocket client for the load generator (RFC 6455 subset).

Why not ``websockets.connect``: its receive path (frame parser generators, the
message assembler, one future wake-up per ``recv()``) costs ~10-20 µs per
frame, so one generator core would cap out below what a bare ``websockets``
server can push in a fan-out. This client parses server frames (never masked,
never fragmented by uvicorn or websockets) with a few slicing operations in
``data_received`` and calls a plain callback: no task, no future per frame.
It masks what it sends with ``websockets.utils.apply_mask`` (C speed-up).

It answers pings and closes; it does not support fragmented messages. With
``deflate=True`` it offers permessage-deflate and inflates compressed server
messages (it sends its own uncompressed, which RFC 7692 allows): enough for
the idle-memory scenario with compression on.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import struct
import zlib
from collections import deque
from collections.abc import Callable

from websockets.utils import apply_mask

__all__ = ["WSClient", "connect"]

Handler = Callable[[bytes], None]


class WSClient(asyncio.Protocol):
    def __init__(self, host: str, port: int, path: str, deflate: bool = False) -> None:
        ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if deflate else ""
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{ext}\r\n"
        ).encode()
        self._inflate = zlib.decompressobj(wbits=-15) if deflate else None
        #: The server accepted permessage-deflate (its handshake answered the offer).
        self.deflated = False
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[int] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._open = False
        #: Called with each binary message's payload; default: queue it for :meth:`recv`.
        self.handler: Handler = self._enqueue
        self._inbox: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.close_code = 0

    # ------------------------------------------------------------ asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code or 1006)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            headers = bytes(buf[:end])
            status = headers.split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if b" 101 " not in status + b" ":
                self.opened.set_exception(ConnectionError(f"handshake refused: {status!r}"))
                assert self.transport is not None
                self.transport.close()
                return
            self._open = True
            self.deflated = b"permessage-deflate" in headers.lower()
            self.opened.set_result(None)
        n = len(buf)
        pos = 0
        handler = self.handler
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > n:
                break
            opcode = b0 & 0x0F
            if opcode == 2 or opcode == 1:
                if not b0 & 0x80:
                    raise RuntimeError("fragmented messages are not supported by the bench client")
                if b0 & 0x40 and self._inflate is not None:
                    handler(self._inflate.decompress(bytes(buf[pos + head : end]) + b"\x00\x00\xff\xff"))
                else:
                    handler(bytes(buf[pos + head : end]))
            elif opcode == 9:
                self._write_frame(0xA, bytes(buf[pos + head : end]))
            elif opcode == 8:
                payload = bytes(buf[pos + head : end])
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self._write_frame(0x8, payload[:2])
                assert self.transport is not None
                self.transport.close()
            pos = end
        if pos:
            del buf[:pos]

    # ------------------------------------------------------------- sending
    def _write_frame(self, opcode: int, payload: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = random.getrandbits(32).to_bytes(4, "big")
        transport.write(head + mask + apply_mask(payload, mask))

    def send(self, payload: bytes) -> None:
        """Write one binary message (never blocks; the kernel/transport buffers it)."""
        self._write_frame(0x2, payload)

    def send_text(self, payload: bytes) -> None:
        """Write one text message (UTF-8 bytes), e.g. an Engine.IO packet."""
        self._write_frame(0x1, payload)

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write_frame(0x8, struct.pack("!H", code))
            self.transport.close()

    # ---------------------------------------------------- setup-time receive
    def _enqueue(self, payload: bytes) -> None:
        self._inbox.append(payload)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def recv(self, timeout: float = 10.0) -> bytes:
        """Next queued message (only while :attr:`handler` is the default)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._inbox:
            if self.closed.done():
                raise ConnectionError(f"connection closed ({self.close_code})")
            self._waiter = loop.create_future()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no frame in time")
            await asyncio.wait_for(self._waiter, remaining)
        return self._inbox.popleft()

    def drain_inbox(self) -> list[bytes]:
        items = list(self._inbox)
        self._inbox.clear()
        return items


async def connect(
    host: str, port: int, path: str = "/ws", timeout: float = 30.0, deflate: bool = False
) -> WSClient:
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: WSClient(host, port, path, deflate), host, port), timeout
    )
    await asyncio.wait_for(client.opened, timeout)
    return client
