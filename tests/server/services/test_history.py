"""HistoryService: history pages as seq ranges (bounds, direction, byte cap) and reconnect sync
(resume, reset, per-conversation limit, overall budget, pages of conversations)."""

from __future__ import annotations

from typing import Any

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.models import Conversation, Member, NewMessage
from parley.server.services.history import MAX_PAGE_BYTES, HistoryService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import refused

A = "app1"


async def _conv(store: SQLiteStore, conv: str, messages: int, *, users: tuple[str, ...] = ("alice",),
                body: dict[str, Any] | None = None) -> None:  # fmt: skip
    await store.create_conversation(
        Conversation(app=A, conv=conv, kind="group", epoch=f"e-{conv}", created=1),
        [Member(A, conv, u, "member", 1) for u in users],
    )
    if messages:
        await store.append(
            [
                NewMessage(
                    app=A,
                    conv=conv,
                    mid=f"{conv}-{i}",
                    sender="alice",
                    cmid=f"{conv}-{i}",
                    kind="custom",
                    body=body or {"i": i + 1},
                    ts=i,
                )
                for i in range(messages)
            ]
        )


def _seqs(messages: list[Any]) -> list[int]:
    return [m.seq for m in messages]


async def test_pages_go_back_from_the_end_or_forward_from_a_seq(store: SQLiteStore) -> None:
    await _conv(store, "c1", 10)
    history = HistoryService(store)
    page, more = await history.page(A, "c1", before=None, after=None, limit=4)
    assert (_seqs(page), more) == ([7, 8, 9, 10], True)
    page, more = await history.page(A, "c1", before=7, after=None, limit=4)
    assert (_seqs(page), more) == ([3, 4, 5, 6], True)
    page, more = await history.page(A, "c1", before=3, after=None, limit=4)
    assert (_seqs(page), more) == ([1, 2], False)
    page, more = await history.page(A, "c1", before=None, after=0, limit=4)
    assert (_seqs(page), more) == ([1, 2, 3, 4], True)
    page, more = await history.page(A, "c1", before=None, after=8, limit=4)
    assert (_seqs(page), more) == ([9, 10], False)
    assert await history.page(A, "c1", before=None, after=10, limit=4) == ([], False)
    assert await history.page(A, "c1", before=1, after=None, limit=4) == ([], False)


async def test_page_bounds_are_checked(store: SQLiteStore) -> None:
    await _conv(store, "c1", 3)
    history = HistoryService(store)
    with refused(ErrorCode.NOT_FOUND, "no conversation"):
        await history.page(A, "c9", before=None, after=None, limit=4)
    with refused(ErrorCode.INVALID_REQUEST, "not both"):
        await history.page(A, "c1", before=2, after=1, limit=4)
    with refused(ErrorCode.OUT_OF_RANGE, "after=4 is beyond the last message (3)"):
        await history.page(A, "c1", before=None, after=4, limit=4)
    for before in (5, 0):
        with refused(ErrorCode.OUT_OF_RANGE, "outside 1..4"):
            await history.page(A, "c1", before=before, after=None, limit=4)
    await _conv(store, "empty", 0)
    assert await history.page(A, "empty", before=None, after=None, limit=4) == ([], False)


async def test_a_page_stops_at_its_byte_cap_nearest_the_cursor(store: SQLiteStore) -> None:
    big = {"blob": "x" * (512 * 1024)}
    count = MAX_PAGE_BYTES // (512 * 1024) + 3
    await _conv(store, "c1", count, body=big)
    history = HistoryService(store)
    newest, more = await history.page(A, "c1", before=None, after=None, limit=count)
    assert more and 0 < len(newest) < count and _seqs(newest)[-1] == count, "the newest are kept"
    oldest, more = await history.page(A, "c1", before=None, after=0, limit=count)
    assert more and 0 < len(oldest) < count and _seqs(oldest)[0] == 1, "the oldest after the cursor are kept"
    size = sum(len(repr(m.body)) for m in oldest)
    assert size <= MAX_PAGE_BYTES


async def test_sync_resumes_resets_and_bounds_the_replay(store: SQLiteStore) -> None:
    await _conv(store, "c1", 5)
    await _conv(store, "c2", 5)
    await _conv(store, "c3", 2)
    await _conv(store, "c4", 2)
    await _conv(store, "other", 1, users=("bob",))
    history = HistoryService(store)
    positions = [
        frames.Position(conv="c1", seq=1, epoch="e-c1"),  # behind: replay 2..4 (limit 3), more
        frames.Position(conv="c2", seq=0, epoch="old"),  # stale epoch: reset
        frames.Position(conv="c3", seq=9, epoch="e-c3"),  # ahead of the stream: reset
        frames.Position(conv="c4", seq=2, epoch="e-c4"),  # up to date
        frames.Position(conv="other", seq=0),  # not a member: reset, nothing replayed
    ]
    result = await history.sync(A, "alice", positions, limit=3, budget=100)
    assert [(m.conv, m.seq) for m in result.messages] == [("c1", 2), ("c1", 3), ("c1", 4)]
    states = {s.conv: (s.last_seq, s.more, s.reset) for s in result.states}
    assert states == {
        "c1": (5, True, False),
        "c2": (5, False, True),
        "c3": (2, False, True),
        "c4": (2, False, False),
        "other": (0, False, True),
    }
    assert result.next == ""


async def test_sync_shares_one_budget_over_conversations_and_pages_them(store: SQLiteStore) -> None:
    for conv in ("c1", "c2", "c3"):
        await _conv(store, conv, 4)
    history = HistoryService(store)
    behind = [frames.Position(conv=c, seq=0, epoch=f"e-{c}") for c in ("c1", "c2", "c3")]
    result = await history.sync(A, "alice", behind, limit=4, budget=6)
    assert len(result.messages) == 6
    assert [(s.conv, s.more) for s in result.states] == [("c1", False), ("c2", True), ("c3", True)]
    first = await history.sync(A, "alice", behind, limit=4, budget=100, page=2)
    assert first.next == "c2" and [s.conv for s in first.states] == ["c1", "c2"]
    assert {m.conv for m in first.messages} == {"c1", "c2"}
    rest = await history.sync(A, "alice", behind, limit=4, budget=100, after=first.next, page=2)
    assert rest.next == "" and [s.conv for s in rest.states] == ["c3"]
    assert [m.seq for m in rest.messages] == [1, 2, 3, 4]
