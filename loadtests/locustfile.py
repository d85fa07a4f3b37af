"""Locust load test for any Parley deployment: chat users over WebSocket.

One command (headless, 20 users, 10 s)::

    PARLEY_APP=... PARLEY_APP_SECRET=... \\
    locust -f loadtests/locustfile.py --headless -u 20 -r 10 -t 10s \\
        --host ws://127.0.0.1:8700/ --only-summary

Tokens come from one of (first that is set):

- ``PARLEY_APP`` + ``PARLEY_APP_SECRET``: signed here (HS256, as an app back-end
  does: ``parley app create`` prints both);
- ``PARLEY_APP`` (optional) + ``PARLEY_API_KEY``: fetched from the admin API,
  ``POST {http(s) of --host}/v1/tokens`` with ``Authorization: Bearer <key>``
  (set ``PARLEY_ADMIN_URL`` if the admin API is elsewhere).

Each locust user is one chat user ``{PARLEY_LOCUST_PREFIX}{n}`` (default prefix
``lc-<random>-`` so that runs do not mix). It connects (``hello`` with its
token), opens a direct conversation with its neighbour (n XOR 1) and belongs to
a group of ``PARLEY_LOCUST_GROUP`` users (default 10; the first of each block
creates it), then its tasks: send 1:1, send to the group, mark read
(``read`` receipts for what it received), and sometimes drop the connection
and reconnect. A reader greenlet receives frames and answers heartbeats.

Metrics (request type ``WS``):

- ``send->deliver``: time from a member's ``send`` to another member's
  receiving the ``msg`` (the sender's ``time.time()`` is in the text: on
  several load machines their clocks must be synchronised);
- ``send->ack``: until the message is persisted (``ack``);
- ``connect+hello``: TCP + WebSocket handshake + authentication;
- ``read``, ``conv_create``: request → reply.

Refused requests (``error`` frames) and lost connections are failures.
Uses a synchronous client (``websocket-client``, gevent-friendly under
locust) and the pure ``parley.proto`` codec. Install: ``pip install -e '.[load]'``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import random
import secrets
import time
import urllib.request
from typing import Any

import gevent
import websocket
from locust import User, between, events, task

from parley.proto import ServerDecoder, encode, frames

PREFIX = os.environ.get("PARLEY_LOCUST_PREFIX") or f"lc-{secrets.token_hex(3)}-"
GROUP_SIZE = int(os.environ.get("PARLEY_LOCUST_GROUP", "10"))
RECONNECT_EVERY = float(os.environ.get("PARLEY_LOCUST_RECONNECT", "0.05"))  # share of task runs
_numbers = itertools.count()
_decoder = ServerDecoder()


# ------------------------------------------------------------------ tokens
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_token(app: str, secret: str, user: str, ttl: int = 3600) -> str:
    """An HS256 JWT with the claims Parley checks (``iss`` = app, ``sub``, ``aud`` = parley)."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iss": app, "sub": user, "aud": "parley", "iat": now, "exp": now + ttl}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def admin_url(host: str) -> str:
    explicit = os.environ.get("PARLEY_ADMIN_URL")
    if explicit:
        return explicit.rstrip("/")
    base = host.replace("wss://", "https://", 1).replace("ws://", "http://", 1).rstrip("/")
    return base[: -len("/ws")] if base.endswith("/ws") else base


def fetch_token(host: str, user: str) -> str:
    request = urllib.request.Request(
        admin_url(host) + "/v1/tokens",
        data=json.dumps({"user": user, "ttl": 3600}).encode(),
        headers={
            "Authorization": f"Bearer {os.environ['PARLEY_API_KEY']}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token: str = json.loads(response.read())["token"]
        return token


def token_for(host: str, user: str) -> str:
    app, secret = os.environ.get("PARLEY_APP"), os.environ.get("PARLEY_APP_SECRET")
    if app and secret:
        return sign_token(app, secret, user)
    if os.environ.get("PARLEY_API_KEY"):
        return fetch_token(host, user)
    raise RuntimeError("set PARLEY_APP and PARLEY_APP_SECRET, or PARLEY_API_KEY (see the module docstring)")


def ws_url(host: str) -> str:
    host = host.rstrip("/")
    return host if host.endswith("/ws") else host + "/ws"


def report(name: str, started: float, length: int = 0, exc: BaseException | None = None) -> None:
    events.request.fire(
        request_type="WS",
        name=name,
        response_time=(time.time() - started) * 1000,
        response_length=length,
        exception=exc,
        context={},
    )


# ------------------------------------------------------------------- users
class ChatUser(User):
    """One chat user: 1:1 with its neighbour, a member of a group, reads, reconnects."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.n = next(_numbers)
        self.me = f"{PREFIX}{self.n}"
        self.peer = f"{PREFIX}{self.n ^ 1}"
        block = self.n - self.n % GROUP_SIZE
        self.group_members = [f"{PREFIX}{i}" for i in range(block, block + GROUP_SIZE)]
        self.ws: websocket.WebSocket | None = None
        self.reader: gevent.Greenlet | None = None
        self.pending: dict[int, tuple[str, float]] = {}  # request id -> (metric name, start)
        self.replies: dict[int, Any] = {}
        self.ids = itertools.count(1)
        self.direct: str | None = None
        self.group_conv: str | None = None
        self.unread: dict[str, int] = {}  # conv -> highest seq received and not yet marked read
        self.heartbeat = 25.0
        self.connect()
        self.direct = self.request_conv(frames.ConvCreate(id=0, kind="direct", members=[self.peer]))
        if self.n % GROUP_SIZE == 0:
            self.group_conv = self.request_conv(
                frames.ConvCreate(id=0, kind="group", members=self.group_members[1:], name="locust")
            )

    def on_stop(self) -> None:
        self.disconnect(report_pending=False)  # the test is over: unanswered requests are not failures

    # ------------------------------------------------------------ transport
    def connect(self) -> None:
        started = time.time()
        try:
            ws = websocket.create_connection(ws_url(self.host), timeout=10, enable_multithread=True)
            ws.send_binary(encode(frames.Hello(v=1, token=token_for(self.host, self.me), client="locust")))
            while True:
                frame = _decoder.decode(ws.recv())
                if isinstance(frame, frames.Welcome):
                    self.heartbeat = max(1.0, frame.heartbeat_ms / 1000 / 2)
                    break
                if isinstance(frame, frames.Error):
                    raise ConnectionError(f"hello refused: {frame.code}: {frame.message}")
        except Exception as exc:
            report("connect+hello", started, exc=exc)
            raise
        report("connect+hello", started)
        ws.settimeout(None)
        self.ws = ws
        self.reader = gevent.spawn(self.read_loop, ws)
        self.pinger = gevent.spawn(self.ping_loop, ws)

    def disconnect(self, report_pending: bool = True) -> None:
        ws, self.ws = self.ws, None
        for g in (self.reader, getattr(self, "pinger", None)):
            if g is not None:
                g.kill(block=False)
        if ws is not None:
            # send_close + shutdown: close() would wait up to 3 s for the server's close frame
            # while the (killed) reader owned the receive side.
            try:
                ws.send_close()
            except Exception:
                pass
            try:
                ws.shutdown()
            except Exception:
                pass
        if report_pending:
            for name, started in self.pending.values():
                report(name, started, exc=ConnectionError("connection closed before the reply"))
        self.pending.clear()

    def ping_loop(self, ws: websocket.WebSocket) -> None:
        while True:
            gevent.sleep(self.heartbeat)
            try:
                ws.send_binary(encode(frames.Ping(ts=int(time.time() * 1000))))
            except Exception:
                return

    def read_loop(self, ws: websocket.WebSocket) -> None:
        while True:
            try:
                data = ws.recv()
            except Exception as exc:
                if ws is self.ws:  # not a reconnect of ours: the server or the network dropped us
                    report("connection", time.time(), exc=exc)
                    self.ws = None
                return
            if not data:
                continue
            self.on_frame(_decoder.decode(data), len(data))

    def on_frame(self, frame: Any, length: int) -> None:
        if isinstance(frame, frames.Msg):
            m = frame.m
            if m.sender != self.me and m.kind == "text":
                text = str(m.body.get("text", ""))
                stamp = text.split(":", 1)[0]
                if stamp.replace(".", "", 1).isdigit():
                    report("send->deliver", float(stamp), length)
                self.unread[m.conv] = max(self.unread.get(m.conv, 0), m.seq)
        elif isinstance(frame, frames.ConvEvent):
            if frame.event == "joined" and frame.conv.kind == "group":
                self.group_conv = frame.conv.conv
        elif isinstance(frame, (frames.Ack, frames.Ok, frames.ConvResult, frames.ConvListResult)):
            entry = self.pending.pop(frame.id, None)
            if entry is not None:
                report(entry[0], entry[1], length)
            self.replies[frame.id] = frame
        elif isinstance(frame, frames.Error):
            entry = self.pending.pop(frame.id, None) if frame.id is not None else None
            exc = RuntimeError(f"{frame.code}: {frame.message}")
            report(entry[0] if entry else "error", entry[1] if entry else time.time(), length, exc)

    def request(self, name: str, frame: Any) -> int:
        if self.ws is None:
            self.connect()
        request_id = next(self.ids)
        frame.id = request_id
        self.pending[request_id] = (name, time.time())
        assert self.ws is not None
        self.ws.send_binary(encode(frame))
        return request_id

    def request_conv(self, frame: frames.ConvCreate, timeout: float = 10.0) -> str | None:
        request_id = self.request("conv_create", frame)
        deadline = time.time() + timeout
        while request_id not in self.replies and time.time() < deadline:
            gevent.sleep(0.01)
        reply = self.replies.pop(request_id, None)
        return reply.conv.conv if isinstance(reply, frames.ConvResult) else None

    def send_text(self, conv: str) -> None:
        text = f"{time.time():.6f}:locust {secrets.token_hex(8)}"
        self.request(
            "send->ack", frames.Send(id=0, conv=conv, cmid=secrets.token_hex(8), body={"text": text})
        )

    # ---------------------------------------------------------------- tasks
    @task(6)
    def chat_direct(self) -> None:
        if self.direct:
            self.send_text(self.direct)

    @task(3)
    def chat_group(self) -> None:
        if self.group_conv:
            self.send_text(self.group_conv)

    @task(3)
    def mark_read(self) -> None:
        if self.unread:
            conv, seq = self.unread.popitem()
            self.request("read", frames.Read(id=0, conv=conv, seq=seq))

    @task(1)
    def reconnect(self) -> None:
        if random.random() < RECONNECT_EVERY * 13:  # ≈ RECONNECT_EVERY of all task runs
            deadline = time.time() + 2.0  # like an app: let outstanding sends be acked first
            while self.pending and time.time() < deadline:
                gevent.sleep(0.01)
            self.disconnect()
            self.connect()
