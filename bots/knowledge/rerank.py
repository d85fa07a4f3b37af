"""A learned reorder of the top hits: which of the five is the answer, from how they were scored.

Hand-set fusion (:mod:`.fusion`) weighs every signal the same on every business; tuned on a few
businesses it did not carry over to new ones (docs/BOT_QUALITY.md).  This module learns the
order instead, from many businesses at once: a logistic regression over each top hit's
*features* — its fused score and distance to the top score, its rank, each calibrated signal
and whether that signal could read it, whether it is in the customer's language, whether it is
an FAQ entry — fitted on every answerable message of the development sets
(:mod:`parley.bots.rerank_fit`), shipped as a few numbers, and measured leave one set out.

It only reorders: the result's confidence, and so every answer / decline / hand-over threshold,
stays the fused score of the best hit, as without it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

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
)

Vector = npt.NDArray[np.float64]


def features(result: SearchResult, rank: int, hit: Hit) -> Vector:
    """The feature vector of ``hit`` at ``rank`` among ``result``'s hits (see :data:`FEATURES`)."""
    top = result.hits[0].score if result.hits else 0.0
    f = [hit.score, top - hit.score, *(1.0 if rank == i else 0.0 for i in range(_RANKS))]
    for name in SIGNALS:
        value = hit.signals.get(name)
        f += [value or 0.0, 0.0 if value is None else 1.0]
    same = 1.0 if hit.chunk.lang == result.lang or "mixed" in (hit.chunk.lang, result.lang) else 0.0
    f += [same, 1.0 if hit.chunk.kind == "faq" else 0.0, same * hit.signals.get(SIGNALS[0], 0.0)]
    return np.array(f)


@dataclass(frozen=True, slots=True)
class Reranker:
    """Logistic weights over :data:`FEATURES` (standardised by ``mean`` and ``scale``)."""

    weights: Vector
    bias: float
    mean: Vector
    scale: Vector

    def scores(self, result: SearchResult) -> Vector:
        """P(right) for each of ``result``'s hits."""
        if not result.hits:
            return np.zeros(0)
        x = np.array([features(result, i, h) for i, h in enumerate(result.hits)])
        return np.asarray(1.0 / (1.0 + np.exp(-self.logits(x))))

    def logits(self, x: Vector) -> Vector:
        """The model's log-odds for rows of :func:`features` (the order :meth:`scores` gives)."""
        return np.asarray(((x - self.mean) / self.scale) @ self.weights + self.bias)

    def reorder(self, result: SearchResult) -> SearchResult:
        """``result`` with its hits in the model's order; confidence and answerable unchanged."""
        if len(result.hits) < 2:
            return result
        order = np.argsort(-self.scores(result), kind="stable")
        return replace(result, hits=[result.hits[int(i)] for i in order])

    def save(self, path: Path) -> None:
        """Write the model as a compressed ``.npz``."""
        np.savez_compressed(
            path, weights=self.weights, bias=np.array(self.bias), mean=self.mean, scale=self.scale
        )

    @classmethod
    def load(cls, path: Path) -> Reranker:
        """Read a model written by :meth:`save`."""
        with np.load(path) as f:
            if f["weights"].shape != (len(FEATURES),):
                raise ValueError(f"{path}: {f['weights'].shape[0]} weights for {len(FEATURES)} features")
            return cls(f["weights"], float(f["bias"]), f["mean"], f["scale"])


def fit_reranker(
    x: Vector,
    y: Sequence[bool] | npt.NDArray[np.bool_],
    *,
    l2: float = 0.1,
    iterations: int = 2000,
    step: float = 0.5,
) -> Reranker:
    """Fit the weights by full-batch gradient descent on standardised features (deterministic).

    ``x`` holds one row of :func:`features` per hit, ``y`` whether that hit is a right answer.
    """
    if len(x) != len(y) or not any(y) or all(y):
        raise ValueError("need rows of both right and wrong hits, one label per row")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = (x - mean) / scale
    t = np.asarray(y, dtype=np.float64)
    w, b = np.zeros(xs.shape[1]), 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(xs @ w + b)))
        g = p - t
        w -= step * (xs.T @ g / len(t) + l2 * w / len(t))
        b -= step * float(g.mean())
    return Reranker(w, b, mean, scale)


@functools.cache
def shipped_reranker() -> Reranker:
    """The shipped model, read once per process (it is immutable)."""
    return Reranker.load(RERANK_PATH)
