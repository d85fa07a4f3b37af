"""Exactly-once, in-order merge of messages per conversation (pure, no sockets)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from parley.proto import frames
from parley.sdk.streams import Streams


def msg(seq: int, conv: str = "c") -> frames.Message:
    return frames.Message(
        conv=conv, seq=seq, mid=f"m{seq}", sender="u", kind="text", body={"text": "x"}, ts=0
    )


def synced(*states: frames.SyncState) -> frames.Synced:
    return frames.Synced(id=1, convs=list(states))


def state(conv: str, last: int, **kw: object) -> frames.SyncState:
    return frames.SyncState(conv=conv, last_seq=last, epoch="e", **kw)  # type: ignore[arg-type]


def test_untracked_conversation_accepts_its_first_seq() -> None:
    s = Streams()
    out, gap = s.on_message(msg(7))
    assert [m.seq for m in out] == [7] and not gap and s.position("c") == 7


def test_duplicates_are_dropped() -> None:
    s = Streams([frames.Position(conv="c", seq=3)])
    assert s.on_message(msg(2)) == ([], False)
    assert s.on_message(msg(3)) == ([], False)
    assert [m.seq for m in s.on_message(msg(4))[0]] == [4]


def test_gap_holds_messages_and_asks_for_one_sync() -> None:
    s = Streams([frames.Position(conv="c", seq=1)])
    assert s.on_message(msg(3)) == ([], True)
    assert s.on_message(msg(4)) == ([], False), "already waiting for a sync"
    assert s.held("c") == [3, 4]
    out, _ = s.on_message(msg(2))
    assert [m.seq for m in out] == [2, 3, 4] and s.held("c") == []


def test_strict_mode_counts_unknown_conversations_from_zero() -> None:
    s = Streams()
    s.strict = True
    assert s.on_message(msg(2)) == ([], True)
    assert [m.seq for m in s.on_message(msg(1))[0]] == [1, 2]


def test_first_synced_takes_server_positions() -> None:
    s = Streams()
    out = s.on_synced(synced(state("a", 5), state("b", 0)), listed=[])
    assert not out.again and s.positions() == [
        frames.Position(conv="a", seq=5, epoch="e"),
        frames.Position(conv="b", seq=0, epoch="e"),
    ]


def test_after_baseline_unknown_conversations_sync_from_zero() -> None:
    s = Streams()
    s.baseline = True
    out = s.on_synced(synced(state("new", 3), state("empty", 0)), listed=[])
    assert out.again == {"new"} and s.position("new") == 0 and s.position("empty") == 0


def test_more_and_short_positions_ask_for_another_round() -> None:
    s = Streams([frames.Position(conv="a", seq=1), frames.Position(conv="b", seq=1)])
    out = s.on_synced(synced(state("a", 9, more=True), state("b", 4)), listed=["a", "b"])
    assert out.again == {"a", "b"}


def test_reset_moves_to_server_position_and_drops_held() -> None:
    s = Streams([frames.Position(conv="c", seq=1, epoch="old")])
    s.on_message(msg(5))
    s.on_message(msg(9))
    out = s.on_synced(synced(state("c", 8, reset=True)), listed=["c"])
    assert [r.conv for r in out.resets] == ["c"]
    assert [m.seq for m in out.deliver] == [9] and s.held("c") == [] and not out.again
    assert s.position("c") == 9 and s.positions()[0].epoch == "e"


def test_reset_without_epoch_forgets_the_conversation() -> None:
    s = Streams([frames.Position(conv="gone", seq=4)])
    out = s.on_synced(
        frames.Synced(id=1, convs=[frames.SyncState(conv="gone", last_seq=0, epoch="", reset=True)]), ["gone"]
    )
    assert out.resets and s.position("gone") is None


def test_skip_gap_releases_held_messages() -> None:
    s = Streams([frames.Position(conv="c", seq=1)])
    s.on_message(msg(5))
    s.on_message(msg(6))
    assert [m.seq for m in s.skip_gap("c")] == [5, 6] and s.position("c") == 6


@given(st.integers(min_value=1, max_value=60), st.randoms(use_true_random=False), st.integers(0, 3))
def test_any_arrival_order_with_duplicates_delivers_each_seq_once_in_order(
    n: int, rng: random.Random, dup_factor: int
) -> None:
    """Whatever the fan-out does (reorder, duplicate, lose), live + sync delivers 1..n once, in order."""
    s = Streams([frames.Position(conv="c", seq=0)])
    arrivals = [seq for seq in range(1, n + 1) for _ in range(1 + rng.randint(0, dup_factor))]
    rng.shuffle(arrivals)
    arrivals = [a for a in arrivals if rng.random() < 0.7]  # some are lost entirely
    delivered: list[int] = []
    for seq in arrivals:
        out, _ = s.on_message(msg(seq))
        delivered += [m.seq for m in out]
    # The sync refill: the server resends everything after the position, then synced.
    while s.position("c") != n:
        for seq in range(s.position("c") + 1, n + 1):  # type: ignore[operator]
            out, _ = s.on_message(msg(seq))
            delivered += [m.seq for m in out]
        s.on_synced(synced(state("c", n)), ["c"])
    assert delivered == list(range(1, n + 1))
