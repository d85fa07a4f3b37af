"""The statistics of campaign measurement (pure): intervals for rates and their difference, and the
sample-ratio check of a split.

* :func:`wilson` — the Wilson score interval of one proportion ``x / n``.
* :func:`newcombe` — the difference of two proportions ``p1 - p2`` with Newcombe's hybrid score
  interval (Newcombe 1998, method 10): built from the two Wilson intervals. Chosen over the
  normal approximation (Wald) because conversion rates are small and control groups are often
  small: Wald under-covers there, collapses to zero width when a group has no conversions and can
  leave [-1, 1]; the hybrid score interval keeps close to its nominal coverage in those cases and
  needs no iteration.
* :func:`chi_square_sf` — the survival function of the chi-square distribution (the regularized
  upper incomplete gamma function, by its series or continued fraction), and :func:`srm` — a
  chi-square goodness-of-fit test of observed group sizes against the expected split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Z95", "Interval", "SrmResult", "chi_square_sf", "newcombe", "srm", "wilson"]

#: The two-sided 95 % normal quantile.
Z95 = 1.959963984540054
_EPS = 1e-15
_ITERATIONS = 10_000


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its confidence interval ``[low, high]``."""

    estimate: float
    low: float
    high: float


def wilson(x: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval of ``x`` successes out of ``n`` (``n = 0``: the whole [0, 1])."""
    if n <= 0:
        return Interval(0.0, 0.0, 1.0)
    if not 0 <= x <= n:
        raise ValueError("need 0 <= x <= n")
    p = x / n
    z2 = z * z
    centre = (x + z2 / 2) / (n + z2)
    half = z * math.sqrt(x * (n - x) / n + z2 / 4) / (n + z2)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Interval:
    """``x1/n1 - x2/n2`` with Newcombe's hybrid score interval (module docstring)."""
    a, b = wilson(x1, n1, z), wilson(x2, n2, z)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, low, high)


def _lower_series(s: float, x: float) -> float:
    """The regularized lower incomplete gamma P(s, x) by its power series (x < s + 1)."""
    term = total = 1.0 / s
    k = s
    for _ in range(_ITERATIONS):
        k += 1
        term *= x / k
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + s * math.log(x) - math.lgamma(s))


def _upper_fraction(s: float, x: float) -> float:
    """The regularized upper incomplete gamma Q(s, x) by its continued fraction (Lentz; x >= s + 1)."""
    tiny = 1e-300
    b = x + 1 - s
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - s)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return h * math.exp(-x + s * math.log(x) - math.lgamma(s))


def chi_square_sf(stat: float, df: int) -> float:
    """P(X >= ``stat``) for X chi-square with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be >= 1")
    if stat <= 0:
        return 1.0
    s, x = df / 2, stat / 2
    if x < s + 1:
        return max(0.0, 1.0 - _lower_series(s, x))
    return min(1.0, _upper_fraction(s, x))


@dataclass(frozen=True, slots=True)
class SrmResult:
    """The sample-ratio check: the chi-square statistic, its degrees of freedom and p-value, and
    whether the split is suspect (p below ``alpha``)."""

    chi2: float
    df: int
    p_value: float
    mismatch: bool


def srm(observed: Sequence[int], expected_shares: Sequence[float], alpha: float = 0.001) -> SrmResult:
    """Chi-square goodness of fit of ``observed`` group sizes against ``expected_shares`` (which
    are normalised). Groups expected to be empty are left out; fewer than two groups: no test."""
    total_share = sum(expected_shares)
    n = sum(observed)
    pairs = [(o, s / total_share) for o, s in zip(observed, expected_shares, strict=True) if s > 0]
    if n == 0 or len(pairs) < 2:
        return SrmResult(0.0, 0, 1.0, False)
    chi2 = sum((o - n * s) ** 2 / (n * s) for o, s in pairs)
    p = chi_square_sf(chi2, len(pairs) - 1)
    return SrmResult(chi2, len(pairs) - 1, p, p < alpha)
