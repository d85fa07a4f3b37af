"""How much a small evaluation set can say: intervals for a rate, and a paired test against the baseline.

A set of 57 answerable messages measures top-1 to about ±12 points, a pair of sets to about ±8; and
"the bot beats plain multilingual USE" is a claim about the messages on which exactly one of the two
is right, since both see the same messages.  So the report gives, next to each rate, a Wilson 95 %
interval, and for the bot against the baseline the two discordant counts with an exact McNemar test
(a two-sided binomial test of the discordant pairs at one half).  Standard library only: both are
closed forms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

__all__ = ["Paired", "mcnemar_exact", "paired", "wilson"]

_Z95 = NormalDist().inv_cdf(0.975)


def wilson(hits: int, total: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of ``hits / total`` (95 % by default); ``(0, 1)`` for an empty set."""
    if total <= 0:
        return 0.0, 1.0
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    # At 0 or all hits the bound is exactly 0 or 1; the closed form leaves a rounding residue.
    lo = 0.0 if hits == 0 else max(0.0, centre - half)
    hi = 1.0 if hits == total else min(1.0, centre + half)
    return lo, hi


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: how surprising ``only_a`` vs ``only_b`` discordant pairs
    would be if either system were equally likely to be the one that is right."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / (1 << n)
    return min(1.0, 2 * tail)


class _Scored(Protocol):
    """One message scored both ways (``parley.bots.evalsets.Outcome`` is one)."""

    @property
    def right(self) -> bool:
        """The bot answered from a labelled entry."""

    @property
    def baseline_right(self) -> bool:
        """The baseline's top entry is a labelled one."""


@dataclass(frozen=True, slots=True)
class Paired:
    """The bot against the baseline on the same answerable messages."""

    bot: int
    baseline: int
    total: int
    #: Right for the bot and wrong for the baseline, and the reverse.
    bot_only: int
    baseline_only: int

    @property
    def p_value(self) -> float:
        """Exact McNemar p-value of the difference (:func:`mcnemar_exact`)."""
        return mcnemar_exact(self.bot_only, self.baseline_only)

    def cells(self) -> dict[str, str]:
        """The report's columns: each rate with its 95 % interval, the discordant pairs, the test."""

        def rate(hits: int) -> str:
            lo, hi = wilson(hits, self.total)
            return f"{hits / self.total:.2f} [{lo:.2f}–{hi:.2f}]" if self.total else "–"

        return {
            "bot top-1 [95 % CI]": rate(self.bot),
            "baseline top-1 [95 % CI]": rate(self.baseline),
            "bot right, baseline wrong": str(self.bot_only),
            "baseline right, bot wrong": str(self.baseline_only),
            "exact McNemar p": f"{self.p_value:.2f}",
        }


def paired(outcomes: Sequence[_Scored]) -> Paired:
    """Count the bot and the baseline on the same messages (answerable ones only, as given)."""
    return Paired(
        bot=sum(o.right for o in outcomes),
        baseline=sum(o.baseline_right for o in outcomes),
        total=len(outcomes),
        bot_only=sum(o.right and not o.baseline_right for o in outcomes),
        baseline_only=sum(o.baseline_right and not o.right for o in outcomes),
    )
