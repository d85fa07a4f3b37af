"""StreamTracker: deliver in order, drop duplicates, detect gaps."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.proto.positions import StreamTracker, Verdict


def test_untracked_conversation_accepts_any_first_seq() -> None:
    t = StreamTracker()
    assert t.classify("c", 1) is Verdict.DELIVER
    assert t.classify("c", 57) is Verdict.DELIVER


def test_in_order_duplicate_and_gap() -> None:
    t = StreamTracker()
    t.advance("c", 1)
    assert t.classify("c", 2) is Verdict.DELIVER
    assert t.classify("c", 1) is Verdict.DUPLICATE
    assert t.classify("c", 0) is Verdict.DUPLICATE
    assert t.classify("c", 3) is Verdict.GAP


def test_classify_does_not_change_state() -> None:
    t = StreamTracker()
    t.advance("c", 4)
    for seq in (3, 4, 5, 9):
        t.classify("c", seq)
    assert t.positions == {"c": 4}


def test_conversations_are_independent() -> None:
    t = StreamTracker()
    t.advance("a", 10)
    assert t.classify("b", 1) is Verdict.DELIVER
    assert t.classify("a", 1) is Verdict.DUPLICATE


def test_advance_never_moves_backwards() -> None:
    t = StreamTracker()
    t.advance("c", 5)
    t.advance("c", 3)
    assert t.positions["c"] == 5


def test_reset_starts_over_in_a_new_epoch() -> None:
    t = StreamTracker()
    t.advance("c", 40)
    t.reset("c", 0, "e2")
    assert t.positions["c"] == 0 and t.epochs["c"] == "e2"
    assert t.classify("c", 1) is Verdict.DELIVER
    assert t.classify("c", 2) is Verdict.GAP


def test_known_position_at_zero_needs_seq_one() -> None:
    t = StreamTracker()
    t.reset("c", 0, "")
    assert t.classify("c", 1) is Verdict.DELIVER
    assert t.classify("c", 0) is Verdict.DUPLICATE


def _drive(t: StreamTracker, conv: str, arrivals: list[int], store_last: int) -> list[int]:
    """A receiver: deliver in order; on a gap, refill from the 'store' (seqs 1..store_last)."""
    delivered: list[int] = []
    for seq in arrivals:
        verdict = t.classify(conv, seq)
        if verdict is Verdict.GAP:
            for missing in range(t.positions[conv] + 1, seq):
                delivered.append(missing)
                t.advance(conv, missing)
            verdict = t.classify(conv, seq)
        if verdict is Verdict.DELIVER:
            delivered.append(seq)
            t.advance(conv, seq)
    for missing in range(t.positions.get(conv, 0) + 1, store_last + 1):  # final sync
        delivered.append(missing)
        t.advance(conv, missing)
    return delivered


@settings(max_examples=200)
@given(
    n=st.integers(1, 40),
    data=st.data(),
)
def test_at_most_once_with_duplicates_becomes_exactly_once(n: int, data: st.DataObject) -> None:
    """Any lossy, duplicating, reordering fan-out + refill by seq = every seq once, in order."""
    arrivals = data.draw(st.lists(st.integers(1, n), max_size=3 * n))
    t = StreamTracker()
    t.reset("c", 0, "e")
    assert _drive(t, "c", arrivals, n) == list(range(1, n + 1))
    assert t.positions["c"] == n


@given(last=st.integers(0, 2**53), seq=st.integers(0, 2**53))
def test_verdict_is_a_function_of_the_distance(last: int, seq: int) -> None:
    t = StreamTracker()
    t.advance("c", last)
    expected = Verdict.DELIVER if seq == last + 1 else Verdict.DUPLICATE if seq <= last else Verdict.GAP
    assert t.classify("c", seq) is expected
