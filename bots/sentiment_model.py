"""A trained reading of described trouble: a linear model over the multilingual embedding.

The lexicon (:mod:`parley.bots.sentiment`) knows how people *say* they are upset; it misses
messages that are negative only in what they describe — "bought the 30 dollar pack an hour
ago and got nothing", 号被盗了, "the deposit is still frozen on my card" — and every new business
describes its own troubles.  Word lists grown per business did not carry over to businesses
nobody had read (negative recall 0.50 and 0.30 on the session-11 and session-12 holdout pairs).

So this module fits a three-class softmax regression (negative / neutral / positive, classes
weighted to balance) on the multilingual USE vectors of every labelled message of the
development sets (:mod:`parley.bots.sentiment_fit` does the fitting and the leave-one-set-out
measurement), and ships the weights in ``data/sentiment_model.npz``: 512 × 3 numbers, read with
numpy, no training library at run time.  The scorer asks it only when no tone word fired, and
what it finds counts as a described situation, never as tone: it labels a message negative
but does not, alone, move the bot's hand-over decisions (docs/BOT.md, "Sentiment").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["LABELS", "MODEL_PATH", "SentimentModel", "fit"]

#: The classes, in the order of the weight columns.
LABELS = ("negative", "neutral", "positive")
#: The model fitted on the development sets (``python -m parley.bots.sentiment_fit``).
MODEL_PATH = Path(__file__).parent / "data" / "sentiment_model.npz"

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SentimentModel:
    """Weights of a softmax regression over one embedder's vectors (``embedder`` is its name)."""

    embedder: str
    weights: Matrix
    bias: Matrix

    def probabilities(self, vectors: Matrix) -> Matrix:
        """Rows of P(negative), P(neutral), P(positive) for each vector."""
        z = np.asarray(vectors, dtype=np.float32) @ self.weights + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)

    def negative(self, vector: Matrix) -> float:
        """P(negative) for one vector."""
        return float(self.probabilities(vector.reshape(1, -1))[0, 0])

    def save(self, path: Path) -> None:
        """Write the model as a compressed ``.npz``."""
        np.savez_compressed(path, embedder=np.array(self.embedder), weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SentimentModel:
        """Read a model written by :meth:`save` (default: the shipped one)."""
        with np.load(path) as f:
            return cls(str(f["embedder"]), f["weights"].astype(np.float32), f["bias"].astype(np.float32))


def fit(
    vectors: Matrix,
    labels: Sequence[str],
    *,
    embedder: str,
    iterations: int = 400,
    step: float = 0.5,
    l2: float = 1.0,
) -> SentimentModel:
    """Fit the model by full-batch gradient descent (deterministic: same data, same weights).

    Each class weighs in inversely to its count, so the rarer negative and positive messages are
    not drowned by the neutral ones; the fixed number of ``iterations`` from zero weights is the
    regularisation that matters (``l2`` is scaled by the number of examples, so it is weak).
    """
    x = np.asarray(vectors, dtype=np.float64)
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown sentiment labels {unknown}; expected {LABELS}")
    y = np.array([LABELS.index(label) for label in labels])
    counts = np.bincount(y, minlength=len(LABELS))
    if (counts == 0).any():
        raise ValueError("every label needs at least one example")
    n, dim = x.shape
    sample = (n / (len(LABELS) * counts))[y]
    onehot = np.eye(len(LABELS))[y]
    w, b = np.zeros((dim, len(LABELS))), np.zeros(len(LABELS))
    for _ in range(iterations):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = (p - onehot) * sample[:, None] / sample.sum()
        w -= step * (x.T @ grad + l2 * w / n)
        b -= step * grad.sum(axis=0)
    return SentimentModel(embedder, w.astype(np.float32), b.astype(np.float32))
