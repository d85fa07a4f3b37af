"""A small logistic regression shared by the bot's learned models (the reorder and the answer gate).

Both are fitted on a few thousand rows of a few dozen features, once, by a command of their own,
and shipped as a handful of numbers: deterministic full-batch gradient descent on standardised
features in numpy is enough, and the bot needs no training library at run time.  A model is
saved as a compressed ``.npz`` with its weights, bias, the features' mean and scale, and the names
of the development sets it was fitted on (so a test can tell when it is stale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

__all__ = ["LogisticModel", "Vector", "fit_logistic"]

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """Logistic weights over standardised features (``(x - mean) / scale``).

    ``fitted_on`` names the evaluation sets the model was fitted on (empty when unknown).
    """

    weights: Vector
    bias: float
    mean: Vector
    scale: Vector
    fitted_on: tuple[str, ...] = ()
    #: The features' names, in column order (a subclass names its own; :meth:`load` checks the count).
    FEATURES: ClassVar[tuple[str, ...]] = ()

    def logits(self, x: Vector) -> Vector:
        """The log-odds of each row of ``x`` (one row per example, columns as fitted)."""
        return np.asarray(((x - self.mean) / self.scale) @ self.weights + self.bias)

    def probabilities(self, x: Vector) -> Vector:
        """P(positive) of each row of ``x``."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.logits(x))))

    def save(self, path: Path) -> None:
        """Write the model as a compressed ``.npz``."""
        np.savez_compressed(
            path,
            weights=self.weights,
            bias=np.array(self.bias),
            mean=self.mean,
            scale=self.scale,
            fitted_on=np.array(self.fitted_on, dtype=str),
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`; it must have a weight per name of ``FEATURES``."""
        with np.load(path) as f:
            if cls.FEATURES and f["weights"].shape != (len(cls.FEATURES),):
                raise ValueError(f"{path}: {f['weights'].shape[0]} weights for {len(cls.FEATURES)} features")
            names = tuple(str(n) for n in f["fitted_on"]) if "fitted_on" in f.files else ()
            return cls(f["weights"], float(f["bias"]), f["mean"], f["scale"], names)


def fit_logistic(
    x: Vector,
    y: Sequence[bool] | npt.NDArray[np.bool_],
    *,
    l2: float,
    iterations: int,
    step: float,
    fitted_on: Sequence[str] = (),
) -> LogisticModel:
    """Fit by full-batch gradient descent with an L2 penalty (deterministic: same data, same model).

    ``x`` holds one row per example, ``y`` whether it is positive; both classes must occur.
    """
    if len(x) != len(y) or not any(y) or all(y):
        raise ValueError("need rows of both classes, one label per row")
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
    return LogisticModel(w, b, mean, scale, tuple(fitted_on))
