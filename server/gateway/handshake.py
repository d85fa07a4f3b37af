"""The opening handshake's fast path (RFC 6455 §4.2.1–4.2.2).

websockets' :class:`~websockets.server.ServerProtocol` parses and answers the handshake in
pure Python: ~140 µs per connection on our machine, a fifth of the server's CPU cost of a
whole connect + authenticate. Here httptools (the C parser uvicorn already runs on) reads the
request and the few checks websockets makes are repeated on its output: ~20 µs.

Only a plainly valid request takes this path. Anything else — a malformed or unusual request,
a header given twice, an extension offer while the server negotiates extensions — is declined
(``None``) and goes to websockets, which decides and words the answer (400, 426, 431…);
where websockets cannot parse the request at all (a body, obs-fold, a NUL) it would only
close the socket, so the transport answers 400 itself (``GatewayProtocol._refuse_unparsable``). An
accepted connection continues on a ``ServerProtocol`` created already open, so frames are
parsed by websockets either way.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import httptools
from websockets.utils import accept_key

__all__ = ["MAX_HEAD", "Accepted", "accept_fast"]

#: A request head longer than this is left to websockets (which answers 431).
MAX_HEAD = 8192

_WANTED = frozenset(
    {
        b"connection",
        b"upgrade",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"origin",
        b"content-length",
        b"transfer-encoding",
    }
)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A handshake the fast path accepted."""

    path: str
    origin: str | None
    #: The ``101 Switching Protocols`` response to send.
    response: bytes
    #: Bytes the client sent after its request head (already frames).
    rest: bytes


class _Head:
    """httptools callbacks: the URL and the headers the checks need (names lower-cased)."""

    __slots__ = ("headers", "url")

    def __init__(self) -> None:
        self.url = b""
        self.headers: dict[bytes, list[bytes]] = {}

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in _WANTED:
            self.headers.setdefault(name, []).append(value)


_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")


def _tokens(values: list[bytes]) -> list[bytes] | None:
    """A comma-separated header's tokens (RFC 9110 §5.6.1), lower-cased; None unless every
    element is a token (empty elements included: rare, so left to websockets)."""
    tokens = [t.strip(b" \t").lower() for v in values for t in v.split(b",")]
    return tokens if all(_TOKEN.fullmatch(t) for t in tokens) else None


def accept_fast(data: bytes, *, negotiate_extensions: bool) -> Accepted | None:
    """Accept the handshake in ``data`` (a complete request head, maybe more), or decline."""
    head = _Head()
    parser = httptools.HttpRequestParser(head)
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade as upgrade:
        rest = data[upgrade.args[0] :]
    except httptools.HttpParserError:
        return None
    else:
        return None  # not an upgrade request (or an incomplete one)
    if parser.get_method() != b"GET" or parser.get_http_version() != "1.1":
        return None
    h = head.headers
    if b"content-length" in h or b"transfer-encoding" in h:
        return None
    connection = _tokens(h.get(b"connection", []))
    if connection is None or b"upgrade" not in connection:
        return None
    if _tokens(h.get(b"upgrade", [])) != [b"websocket"]:
        return None
    # No subprotocols are offered back, but websockets refuses a malformed list: so do we.
    if b"sec-websocket-protocol" in h and _tokens(h[b"sec-websocket-protocol"]) is None:
        return None
    keys, versions, origins = (
        h.get(b"sec-websocket-key", []),
        h.get(b"sec-websocket-version", []),
        h.get(b"origin", []),
    )
    if len(keys) != 1 or versions != [b"13"] or len(origins) > 1:
        return None
    if negotiate_extensions and b"sec-websocket-extensions" in h:
        return None
    try:
        key = keys[0].decode("ascii")
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
        path = head.url.decode("ascii")
        origin = origins[0].decode("ascii") if origins else None
    except (UnicodeDecodeError, binascii.Error):
        return None
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key).encode() + b"\r\n\r\n"
    )
    return Accepted(path, origin, response, rest)
