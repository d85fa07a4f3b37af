"""The connection's outbound path: direct writes, a bounded queue while the transport is full, closing."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from parley.proto.errors import CloseCode
from parley.server.gateway.connection import Connection
from parley.server.gateway.outbound import OutboundLedger


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


def test_the_queue_is_bounded_in_bytes_too() -> None:
    link = FakeLink()
    conn = Connection("k1", link, max_queue=1000, max_queue_bytes=250)
    conn.pause()
    assert conn.push(b"x" * 100) and conn.push(b"x" * 100)
    assert conn.queued_bytes == 200
    assert conn.push(b"x" * 50), "exactly at the bound is allowed"
    assert not conn.push(b"x"), "one byte past it closes the connection"
    assert link.closed == [CloseCode.SLOW_CONSUMER] and conn.queued_bytes == 0


def test_resume_releases_queued_bytes() -> None:
    conn = Connection("k1", FakeLink(), max_queue=1000, max_queue_bytes=250)
    for _ in range(5):  # 5 x 200 bytes pass a 250-byte bound because each is flushed in between
        conn.pause()
        assert conn.push(b"y" * 200)
        conn.resume()
        assert conn.queued_bytes == 0


def test_the_ledger_counts_a_fanned_out_frame_once() -> None:
    ledger = OutboundLedger()
    conns = [Connection(f"k{i}", FakeLink(), max_queue=10, ledger=ledger) for i in range(3)]
    frame = b"f" * 1000
    for conn in conns:
        conn.pause()
        conn.push(frame)
    assert ledger.queued_bytes == 3000 and ledger.held_bytes == 1000 and ledger.held_frames == 1
    assert ledger.shared_frames == 2
    conns[0].resume()
    assert ledger.queued_bytes == 2000 and ledger.held_bytes == 1000
    conns[1].close(CloseCode.NORMAL, "bye")  # a normal close keeps the queue until it is flushed
    conns[1].abort()
    conns[2].connection_lost()
    assert ledger.queued_bytes == 0 and ledger.held_bytes == 0 and ledger.held_frames == 0
    assert ledger.peak_queued_bytes == 3000 and ledger.peak_held_bytes == 1000


def test_the_ledger_tells_copies_from_shared_frames() -> None:
    ledger = OutboundLedger()
    conns = [Connection(f"k{i}", FakeLink(), max_queue=10, ledger=ledger) for i in range(3)]
    for conn in conns:
        conn.pause()
        conn.push(bytes(bytearray(b"f" * 1000)))  # equal bytes, distinct objects: copies
    assert ledger.held_bytes == ledger.queued_bytes == 3000 and ledger.shared_frames == 0


@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["push", "resume", "pause", "lost"])), max_size=60)
)
def test_the_ledger_always_matches_the_queues(ops: list[tuple[int, str]]) -> None:
    ledger = OutboundLedger()
    conns = [
        Connection(f"k{i}", FakeLink(), max_queue=5, max_queue_bytes=400, ledger=ledger) for i in range(4)
    ]
    frames = [b"a" * 100, b"b" * 150, b"c" * 60]
    for step, (i, op) in enumerate(ops):
        conn = conns[i]
        if op == "push":
            conn.push(frames[step % 3])
        else:
            getattr(conn, {"resume": "resume", "pause": "pause", "lost": "connection_lost"}[op])()
        assert ledger.queued_bytes == sum(c.queued_bytes for c in conns)
        held = {id(f): len(f) for c in conns for f in c._queue}
        assert ledger.held_bytes == sum(held.values()) and ledger.held_frames == len(held)
        assert all(c.queued_bytes <= 400 and c.queued <= 5 for c in conns)
