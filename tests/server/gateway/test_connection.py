"""The connection's outbound path: direct writes, a bounded queue while the transport is full, closing."""

from __future__ import annotations

import asyncio

from parley.proto.errors import CloseCode
from parley.server.gateway.connection import Connection


class FakeLink:
    """Records what a connection asks of its socket (the real one is tested over loopback)."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed: list[int] = []
        self.aborted = False

    def write(self, data: bytes, framed: bytes | None = None) -> None:
        self.written.append(data)

    def close(self, code: int, reason: str, linger: float = 5.0) -> None:
        self.closed.append(code)
        self.linger = linger

    def abort(self) -> None:
        self.aborted = True


def test_pushes_go_straight_to_the_socket_while_it_is_writable() -> None:
    link = FakeLink()
    conn = Connection("k1", link, max_queue=10)
    assert conn.push(b"a") and conn.push(b"b")
    assert link.written == [b"a", b"b"] and conn.queued == 0


def test_a_full_transport_queues_in_order_and_resume_flushes() -> None:
    link = FakeLink()
    conn = Connection("k1", link, max_queue=10)
    conn.push(b"a")
    conn.pause()
    conn.push(b"b")
    conn.push(b"c")
    assert link.written == [b"a"] and conn.queued == 2
    conn.resume()
    conn.push(b"d")
    assert link.written == [b"a", b"b", b"c", b"d"]


def test_close_waits_for_the_queue_then_closes() -> None:
    link = FakeLink()
    conn = Connection("k1", link, max_queue=10)
    conn.pause()
    conn.push(b"a")
    conn.close(1000, "bye")
    assert link.closed == [] and not conn.push(b"late"), "nothing after a close"
    conn.resume()
    assert link.written == [b"a"] and link.closed == [1000]


def test_overflow_closes_a_slow_consumer_with_a_short_linger() -> None:
    link = FakeLink()
    overflows: list[int] = []
    conn = Connection("k1", link, max_queue=3, on_overflow=lambda: overflows.append(1))
    conn.pause()
    for i in range(3):
        assert conn.push(bytes([i]))
    assert not conn.push(b"x")
    assert overflows == [1] and conn.queued == 0, "its backlog is dropped"
    assert link.closed == [CloseCode.SLOW_CONSUMER] and link.linger < 5.0
    assert conn.close_code is not None and conn.close_code[0] == CloseCode.SLOW_CONSUMER


async def test_wait_lost_returns_when_the_socket_is_gone() -> None:
    conn = Connection("k1", FakeLink(), max_queue=3)
    waiter = asyncio.create_task(conn.wait_lost())
    await asyncio.sleep(0)
    assert not waiter.done()
    conn.connection_lost()
    await asyncio.wait_for(waiter, 1)
    assert not conn.push(b"x"), "nothing is written to a lost socket"
