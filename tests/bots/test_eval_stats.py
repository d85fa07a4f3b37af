"""The evaluation's statistics: Wilson intervals and the exact McNemar test, against known values."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.bots.eval_stats import mcnemar_exact, paired, wilson


def test_wilson_matches_the_textbook_values() -> None:
    # Newcombe (1998), table I: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605.
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_a_wilson_interval_holds_its_rate_and_stays_in_0_1(case: tuple[int, int]) -> None:
    hits, total = case
    lo, hi = wilson(hits, total)
    assert 0.0 <= lo <= hits / total <= hi <= 1.0


def test_mcnemar_exact_matches_the_binomial_tail() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(6, 0) == pytest.approx(2 / 64)  # all six discordant pairs one way
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(2, 10) == pytest.approx(0.0386, abs=1e-4)


@given(st.integers(0, 300), st.integers(0, 300))
def test_mcnemar_is_symmetric_and_a_probability(a: int, b: int) -> None:
    p = mcnemar_exact(a, b)
    assert 0.0 < p <= 1.0 and p == mcnemar_exact(b, a)


@dataclass(frozen=True)
class _Scored:
    right: bool
    baseline_right: bool


def test_paired_counts_the_discordant_messages() -> None:
    rows = (
        [_Scored(True, True)] * 5
        + [_Scored(True, False)] * 3
        + [_Scored(False, True)]
        + [_Scored(False, False)]
    )
    p = paired(rows)
    assert (p.bot, p.baseline, p.total, p.bot_only, p.baseline_only) == (8, 6, 10, 3, 1)
    cells = p.cells()
    assert cells["bot right, baseline wrong"] == "3" and cells["exact McNemar p"] == "0.62"
    assert cells["bot top-1 [95 % CI]"].startswith("0.80 [")
