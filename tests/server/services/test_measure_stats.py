"""The measurement statistics against published values (Newcombe 1998; chi-square tables)."""

from __future__ import annotations

import pytest

from parley.server.services.measure_stats import chi_square_sf, newcombe, srm, wilson


def test_wilson_matches_newcombe_1998_table_i() -> None:
    # Newcombe (1998) "Two-sided confidence intervals for the single proportion", method 3.
    w = wilson(81, 263)
    assert (round(w.low, 4), round(w.high, 4)) == (0.2553, 0.3662)
    zero = wilson(0, 10)
    assert zero.low == 0.0 and round(zero.high, 4) == 0.2775


def test_newcombe_hybrid_matches_the_papers_examples() -> None:
    # Newcombe (1998) "Interval estimation for the difference between independent proportions",
    # method 10, examples (a) 56/70 - 48/80 and (d) 9/10 - 3/10 and (g) 0/10 - 0/20.
    a = newcombe(56, 70, 48, 80)
    assert (round(a.estimate, 4), round(a.low, 4), round(a.high, 4)) == (0.2, 0.0524, 0.3339)
    d = newcombe(9, 10, 3, 10)
    assert (round(d.low, 4), round(d.high, 4)) == (0.1705, 0.8090)
    g = newcombe(0, 10, 0, 20)
    assert (round(g.low, 4), round(g.high, 4)) == (-0.1611, 0.2775)


@pytest.mark.parametrize(
    ("stat", "df", "p"),
    [(3.841458820694124, 1, 0.05), (5.991464547107979, 2, 0.05), (6.634896601021214, 1, 0.01),
     (10.827566170662733, 1, 0.001), (0.454936423119572, 1, 0.5), (30.0, 10, 0.000857),
     (2.0, 4, 0.735759)],
)  # fmt: skip
def test_chi_square_survival_matches_tables(stat: float, df: int, p: float) -> None:
    assert chi_square_sf(stat, df) == pytest.approx(p, rel=1e-3)


def test_srm_flags_a_broken_split_and_passes_a_fair_one() -> None:
    fair = srm([5010, 4990], [50, 50])
    assert fair.df == 1 and fair.p_value > 0.5 and not fair.mismatch
    broken = srm([5300, 4700], [50, 50])
    assert broken.chi2 == pytest.approx(36.0) and broken.mismatch
    assert srm([100, 0, 50], [2, 0, 1]).df == 1
