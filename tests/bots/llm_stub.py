"""A deterministic OpenAI-compatible HTTP server for tests (stdlib ``http.server`` in a thread).

Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` (JSON, or SSE when
``"stream": true``). Every request body is recorded in :attr:`LLMStub.requests`, so a
test can assert what the bot *sent* to the model.

Replies are scripted: :meth:`LLMStub.script` queues :class:`Reply` objects that are
consumed one per request; when the queue is empty the :attr:`LLMStub.default` factory
answers (by default: a grounded answer that quotes the first retrieved passage).
A reply can be plain text, a tool call, an HTTP error status (429, 500, ...) or
delayed (to trigger client timeouts).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LLMStub", "Reply", "default_reply", "running_stub"]

MODEL = "stub-model"


@dataclass
class Reply:
    """One scripted response.

    ``text`` is split into ``chunks`` pieces when streamed; ``tool`` (name, arguments)
    makes the model call a function; ``status`` != 200 returns an OpenAI-style error;
    ``delay`` waits before answering (and ``chunk_delay`` between streamed chunks).
    """

    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None
    status: int = 200
    delay: float = 0.0
    chunk_delay: float = 0.0
    chunks: int = 4
    headers: dict[str, str] = field(default_factory=dict)


def _passages(messages: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for m in messages:
        content = m.get("content") or ""
        if isinstance(content, str) and "<passage" in content:
            for part in content.split("<passage")[1:]:
                body = part.split(">", 1)[1] if ">" in part else part
                out.append(body.split("</passage>", 1)[0].strip())
    return out


def default_reply(request: dict[str, Any]) -> Reply:
    """Answer with the first retrieved passage, like a model that follows a grounding prompt."""
    passages = _passages(request.get("messages", []))
    if passages:
        return Reply(text=f"According to our policy: {passages[0][:300]}")
    return Reply(text="I'm sorry, I don't know that. I can connect you with a human agent.")


class LLMStub:
    """The server's state: scripted replies and recorded requests (thread-safe)."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.default: Callable[[dict[str, Any]], Reply] = default_reply
        self.api_keys: list[str] = []
        self._lock = threading.Lock()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.replies.clear()
            self.requests.clear()
            self.api_keys.clear()
            self.default = default_reply

    def _next(self, request: dict[str, Any], key: str) -> Reply:
        with self._lock:
            self.requests.append(request)
            self.api_keys.append(key)
            if self.replies:
                return self.replies.popleft()
        return self.default(request)

    def sent_text(self) -> str:
        """Everything the client sent in every request's messages, as one string."""
        return "\n".join(str(m.get("content") or "") for r in self.requests for m in r.get("messages", []))


def _handler(stub: LLMStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._json(
                    200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "stub"}]}
                )
            else:
                self._json(404, {"error": {"message": "not found", "type": "not_found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": "not found", "type": "not_found"}})
                return
            key = (self.headers.get("authorization") or "").removeprefix("Bearer ")
            reply = stub._next(body, key)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
                try:
                    self._json(reply.status, {"error": {"message": f"stub {reply.status}", "type": kind}},
                               {"retry-after-ms": "10", **reply.headers})  # fmt: skip
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            try:
                if body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._json(200, _completion(body, reply))
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _stream(self, body: dict[str, Any], reply: Reply) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": MODEL}

            def emit(delta: dict[str, Any], finish: str | None = None) -> None:
                chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            emit({"role": "assistant", "content": ""})
            for piece in _split(reply.text, reply.chunks):
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
                emit({"content": piece})
            if reply.tool:
                name, args = reply.tool
                raw = json.dumps(args)
                half = len(raw) // 2
                emit({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                      "function": {"name": name, "arguments": raw[:half]}}]})  # fmt: skip
                emit({"tool_calls": [{"index": 0, "function": {"arguments": raw[half:]}}]})
            emit({}, "tool_calls" if reply.tool else "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def _split(text: str, n: int) -> list[str]:
    if not text:
        return []
    size = max(1, -(-len(text) // max(n, 1)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool:
        name, args = reply.tool
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        ]
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", MODEL),
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool else "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@contextmanager
def running_stub() -> Iterator[LLMStub]:
    """Start the stub on a free loopback port for the duration of the block."""
    stub = LLMStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
