"""The admin API under abuse (issue 10, item 2): bounded bodies, per-key rate limits, problems for bad input.

Bounded tests of the limits, against a real node: a body past the limit is
answered 413 before it is read (we never send it), a chunked one as soon as it
passes the limit; a key past its rate gets 429 with ``Retry-After`` while other
keys go on; bad input of every kind is a problem+json 4xx and the same
keep-alive connection then serves the next request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import h11
import httpx
import pytest

from parley.sdk import AdminClient, AdminError, BodyTooLarge, RateLimited
from tests.harness import RunningNode, running_node

LIMIT = 4096
UPLOAD = 64 * 1024


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(
        tmp_path, admin_key="root", admin_max_body=LIMIT, admin_max_upload=UPLOAD
    ) as running:
        yield running


@pytest.fixture
async def roomy(tmp_path: Path) -> AsyncIterator[RunningNode]:
    """Default limits: room for the 1 000-level bodies below."""
    async with running_node(tmp_path) as running:
        yield running


class KeptAlive:
    """One HTTP/1.1 connection (h11), so a test sees whether a bad request kept it open."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, node: RunningNode) -> KeptAlive:
        return cls(*await asyncio.open_connection("127.0.0.1", node.settings.port))

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        head = [("host", "x"), ("content-length", str(len(body))), *(headers or [])]
        data = self.conn.send(h11.Request(method=method, target=target, headers=head))
        data += self.conn.send(h11.Data(data=body)) + self.conn.send(h11.EndOfMessage())
        self.writer.write(data)
        return await self.response()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = 0, {}, b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await asyncio.wait_for(self.reader.read(65536), 10)
                self.conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, headers, body
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("closed")

    def close(self) -> None:
        self.writer.close()


def assert_problem(status: int, headers: dict[str, str], body: bytes, want: int, code: str) -> None:
    assert status == want, body
    assert headers["content-type"].startswith("application/problem+json"), headers
    doc = json.loads(body)
    assert doc["code"] == code and doc["status"] == want and doc["detail"], doc


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(node: RunningNode) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.settings.port)
    writer.write(
        b"POST /v1/users HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"authorization: Bearer {node.api_key}\r\ncontent-length: 300000000\r\n\r\n".encode()
        + b'{"user": "u1", "meta": {"pad": "'
    )
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "x"), ("content-length", "1")]))
    conn.receive_data(await asyncio.wait_for(reader.read(65536), 10))  # no 300 MB needed for an answer
    response = conn.next_event()
    assert isinstance(response, h11.Response) and response.status_code == 413
    headers = {k.decode(): v.decode() for k, v in response.headers}
    assert headers["content-type"].startswith("application/problem+json")
    assert headers.get("connection") == "close"
    writer.close()


async def test_a_streamed_body_is_counted_and_refused_past_the_limit(node: RunningNode) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"user": "u1", "meta": {"pad": "'
        for _ in range(10_000):  # 10 MB if it were all read
            sent += 1
            yield b"x" * 1024
        yield b'"}}'

    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=10) as api:
        answer = await api.post("/v1/users", content=chunks())  # chunked: no Content-Length
        assert answer.status_code == 413 and answer.json()["code"] == "body_too_large", answer.text[:300]
        assert (await api.get("/v1/users/u1")).status_code == 404, "nothing was stored"
        # Under the limit it works; the knowledge upload has its own, larger limit.
        assert (
            await api.post("/v1/users", json={"user": "u1", "meta": {"pad": "x" * 1000}})
        ).status_code == 201
        chunk = {"id": "c1", "text": "y" * (LIMIT * 2)}
        stored = await api.put("/v1/knowledge/sources/a.md", json={"chunks": [chunk]})
        assert stored.status_code == 200, stored.text[:300]
        huge = await api.put("/v1/knowledge/sources/b.md", json={"chunks": [chunk | {"text": "y" * UPLOAD}]})
        assert huge.status_code == 413 and huge.json()["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("POST", "/v1/users", b'{"user": "u", "meta": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1001),
        ("POST", "/v1/users", b'{"user": "u", "meta": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
        ("POST", "/v1/users", b'{"user": 5}'),
        ("POST", "/v1/users", b'{"user": "u", "meta": []}'),
        ("POST", "/v1/users", b"not json"),
        ("POST", "/v1/users", b'{"user": "u", "meta": {"n": 100000000000000000000000}}'),
        ("POST", "/v1/tokens", b'{"user": "u", "ttl": 1e308}'),
        ("POST", "/v1/tokens", b'{"user": "u", "ttl": 100000000000000000000000}'),
        ("GET", "/v1/conversations/{conv}/messages?after=-100000000000000000000", b""),
        ("GET", "/v1/conversations/{conv}/messages?before=100000000000000000000", b""),
        ("GET", "/v1/conversations/{conv}/messages?after=abc", b""),
        ("GET", "/v1/conversations/{conv}/messages?limit=1e3", b""),
        ("GET", "/v1/conversations/{conv}/messages?limit=-1", b""),
        ("GET", "/v1/conversations/{conv}/messages?after=%00", b""),
    ],
)
async def test_bad_input_is_a_problem_and_keep_alive_survives(
    roomy: RunningNode, method: str, target: str, body: bytes
) -> None:
    node = roomy
    auth = [("authorization", f"Bearer {node.api_key}"), ("content-type", "application/json")]
    conn = await KeptAlive.open(node)
    made = await conn.request(
        "POST", "/v1/conversations", json.dumps({"kind": "group", "members": ["a", "b"]}).encode(), auth
    )
    conv = json.loads(made[2])["conv"]
    status, headers, answer = await conn.request(method, target.format(conv=conv), body, auth)
    assert 400 <= status < 500, (status, answer)
    assert_problem(status, headers, answer, status, json.loads(answer)["code"])
    assert headers.get("connection") != "close"
    again = await conn.request("GET", f"/v1/conversations/{conv}", b"", auth)
    assert again[0] == 200, "the same connection serves the next request"
    conn.close()


async def test_each_api_key_has_its_own_rate_limit(tmp_path: Path) -> None:
    async with running_node(tmp_path, admin_rate=0.01, admin_rate_burst=3) as node:
        other = await node.node.services.apps.create_app("other")
        mine = httpx.AsyncClient(base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"})
        theirs = httpx.AsyncClient(base_url=node.http, headers={"authorization": f"Bearer {other.api_key}"})
        async with mine, theirs:
            answers = [await mine.get("/v1/knowledge/version") for _ in range(5)]
            assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
            limited = answers[3]
            assert limited.headers["content-type"].startswith("application/problem+json")
            assert limited.json()["code"] == "rate_limited"
            assert 1 <= int(limited.headers["retry-after"]) <= 101
            assert (await theirs.get("/v1/knowledge/version")).status_code == 200, "other keys go on"
            # An unknown key is not a way around it, nor a way to fill the limiter's memory.
            stranger = await mine.get("/v1/knowledge/version", headers={"authorization": "Bearer nope"})
            assert stranger.status_code == 401

            async with AdminClient(node.http, node.api_key) as admin:
                with pytest.raises(RateLimited) as refused:
                    await admin.knowledge_version()
                assert isinstance(refused.value, AdminError) and refused.value.status == 429
                assert refused.value.retry_after is not None and refused.value.retry_after >= 1


async def test_the_admin_client_raises_a_typed_error_on_413(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        with pytest.raises(BodyTooLarge) as refused:
            await admin.create_user("u1", meta={"pad": "x" * LIMIT})
        assert refused.value.status == 413 and refused.value.code == "body_too_large"
        assert (await admin.create_user("u1", meta={"pad": "x"})).user == "u1"


async def test_a_client_sending_an_oversized_body_at_once_gets_its_413_not_a_reset(node: RunningNode) -> None:
    """httpx (like most clients) sends the whole body without waiting: the node reads and drops
    the rest before answering, so the client sees the 413 and keeps its connection."""
    headers = {"authorization": f"Bearer {node.api_key}", "content-type": "application/json"}
    body = b'{"user": "u1", "meta": {"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=30) as api:
        for _ in range(2):  # declared length, then again on the same connection
            answer = await api.post("/v1/users", content=body)
            assert answer.status_code == 413 and answer.json()["code"] == "body_too_large"
            assert answer.headers.get("connection") != "close", "the body was read: keep-alive survives"
        assert (await api.post("/v1/users", json={"user": "u1"})).status_code == 201

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5 * 1024):
                yield b"x" * 1024

        answer = await api.post("/v1/users", content=chunks())  # chunked, 5 MB
        assert answer.status_code == 413 and answer.headers.get("connection") != "close"
        assert (await api.get("/v1/users/u1")).status_code == 200
