"""A learned reorder of the top hits: which of the five is the answer, from how they were scored.

Hand-set fusion (:mod:`.fusion`) weighs every signal the same on every business; tuned on a few
businesses it did not carry over to new ones (docs/BOT_QUALITY.md).  This module learns the
order instead, from many businesses at once: a logistic regression over each top hit's
*features* — its fused score and distance to the top score, its rank, each calibrated signal
and whether that signal could read it, whether it is in the customer's language, whether it is
an FAQ entry, and where each model places it among all the knowledge base's chunks for this
question (its rank and standard score: :class:`.fusion.Standing`, session 14) — fitted on every
answerable message of the development sets
(:mod:`parley.bots.rerank_fit`), shipped as a few numbers, and measured leave one set out.

It only reorders: the result's confidence, and so every answer / decline / hand-over threshold,
stays the fused score of the best hit, as without it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from .fusion import STANDING_KEYS
from .logistic import LogisticModel, Vector, fit_logistic
from .results import Hit, SearchResult

__all__ = ["FEATURES", "RERANK_PATH", "SIGNALS", "Reranker", "features", "fit_reranker", "shipped_reranker"]

#: The model fitted on the development sets (``python -m parley.bots.rerank_fit``).
RERANK_PATH = Path(__file__).resolve().parents[1] / "data" / "rerank_model.npz"
#: The signals whose calibrated score and presence are features (absent: 0 and not present).
SIGNALS = ("use-multilingual-v3", "bm25", "gloss", "all-MiniLM-L6-v2")
#: Ranks with a feature of their own; later ranks share none.
_RANKS = 5
#: Feature names, in the order of :func:`features`' vector.
FEATURES = (
    "fused",
    "gap to top",
    *(f"rank {i}" for i in range(_RANKS)),
    *(f"{s} {part}" for s in SIGNALS for part in ("score", "present")),
    "same language",
    "faq entry",
    "same language x multilingual score",
    *STANDING_KEYS,
)


def features(result: SearchResult, rank: int, hit: Hit) -> Vector:
    """The feature vector of ``hit`` at ``rank`` among ``result``'s hits (see :data:`FEATURES`)."""
    top = result.hits[0].score if result.hits else 0.0
    f = [hit.score, top - hit.score, *(1.0 if rank == i else 0.0 for i in range(_RANKS))]
    for name in SIGNALS:
        value = hit.signals.get(name)
        f += [value or 0.0, 0.0 if value is None else 1.0]
    same = 1.0 if hit.chunk.lang == result.lang or "mixed" in (hit.chunk.lang, result.lang) else 0.0
    f += [same, 1.0 if hit.chunk.kind == "faq" else 0.0, same * hit.signals.get(SIGNALS[0], 0.0)]
    f += [hit.standing.get(name, 0.0) for name in STANDING_KEYS]
    return np.array(f)


@dataclass(frozen=True, slots=True)
class Reranker(LogisticModel):
    """Logistic weights over :data:`FEATURES`: the log-odds that a hit is a right answer."""

    FEATURES: ClassVar[tuple[str, ...]] = FEATURES

    def hit_logits(self, result: SearchResult) -> Vector:
        """The log-odds of each of ``result``'s hits, in ``result``'s order."""
        if not result.hits:
            return np.zeros(0)
        return self.logits(np.array([features(result, i, h) for i, h in enumerate(result.hits)]))

    def scores(self, result: SearchResult) -> Vector:
        """P(right) for each of ``result``'s hits."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.hit_logits(result))))

    def reorder(self, result: SearchResult, logits: Vector | None = None) -> SearchResult:
        """``result`` with its hits in the model's order (``logits``: :meth:`hit_logits`, when
        already computed); confidence and answerable unchanged."""
        if len(result.hits) < 2:
            return result
        order = np.argsort(-(self.hit_logits(result) if logits is None else logits), kind="stable")
        return replace(result, hits=[result.hits[int(i)] for i in order])


def fit_reranker(
    x: Vector,
    y: Sequence[bool] | npt.NDArray[np.bool_],
    *,
    l2: float = 0.1,
    iterations: int = 2000,
    step: float = 0.5,
    fitted_on: Sequence[str] = (),
) -> Reranker:
    """Fit the weights (deterministic); ``x`` holds one row of :func:`features` per hit, ``y``
    whether that hit is a right answer."""
    m = fit_logistic(x, y, l2=l2, iterations=iterations, step=step, fitted_on=fitted_on)
    return Reranker(m.weights, m.bias, m.mean, m.scale, m.fitted_on)


@functools.cache
def shipped_reranker() -> Reranker:
    """The shipped model, read once per process (it is immutable)."""
    return Reranker.load(RERANK_PATH)
