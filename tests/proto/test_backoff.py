"""Backoff: bounds, growth and jitter, with a seeded RNG (no clocks)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.proto.backoff import Backoff


def test_defaults() -> None:
    b = Backoff()
    assert (b.min_delay, b.max_delay, b.factor) == (0.2, 20.0, 2.0)


def test_cap_grows_geometrically_then_saturates() -> None:
    b = Backoff(min_delay=1, max_delay=10, factor=2)
    assert [b.cap(i) for i in range(6)] == [1, 2, 4, 8, 10, 10]
    assert b.cap(10_000) == 10


@pytest.mark.parametrize(
    "kwargs",
    [{"min_delay": 0}, {"min_delay": -1}, {"min_delay": 5, "max_delay": 1}, {"factor": 0.5}],
)
def test_invalid_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_is_a_frozen_value() -> None:
    b = Backoff()
    with pytest.raises(AttributeError):
        b.min_delay = 1  # type: ignore[misc]
    assert b == Backoff() and hash(b) == hash(Backoff())


@given(
    lo=st.floats(0.001, 10),
    span=st.floats(0, 100),
    factor=st.floats(1, 10),
    attempt=st.integers(0, 10_000),
    seed=st.integers(0, 2**32),
)
def test_delay_within_bounds(lo: float, span: float, factor: float, attempt: int, seed: int) -> None:
    b = Backoff(min_delay=lo, max_delay=lo + span, factor=factor)
    d = b.delay(attempt, random.Random(seed))
    assert b.min_delay <= d <= b.max_delay
    assert d <= max(b.min_delay, b.cap(attempt))


def test_jitter_is_deterministic_with_a_seeded_rng_and_spreads() -> None:
    b = Backoff(min_delay=0.1, max_delay=30)
    first = [b.delay(8, random.Random(s)) for s in range(50)]
    assert first == [b.delay(8, random.Random(s)) for s in range(50)]
    assert len(set(first)) > 40, "full jitter spreads clients out"


def test_delay_without_rng_uses_the_global_one() -> None:
    assert 0.2 <= Backoff().delay(3) <= 1.6


def test_huge_factor_does_not_overflow() -> None:
    assert Backoff(min_delay=1, max_delay=60, factor=1e10).cap(40) == 60


def test_negative_attempt_counts_as_the_first() -> None:
    assert Backoff(min_delay=0.5, max_delay=10).cap(-3) == 0.5
