"""A learned answer gate: how likely the first hit is to answer the question, from how it was found.

The hand-set rule answered when the best hit's fused score cleared the knowledge base's threshold.
That score did not separate right answers from wrong ones on businesses nobody tuned on
(docs/BOT_QUALITY.md): a right entry of a knowledge base whose unrelated questions also score
high fell under the threshold and was declined or handed over, while a wrong entry scoring 0.5 was
quoted.  The gate instead estimates P(the first hit — in the learned order of :mod:`.rerank` — is a
right answer) with a logistic regression over features of the whole search: the fused confidence
and its distance to the knowledge base's threshold and null level, the reorder model's log-odds
for the first hit and its lead over the second, whether the two orders agree, the first hit's
signals and language, the question's length and script.  It is fitted on every answerable and
out-of-scope message of the development sets (:mod:`parley.bots.gate_fit`), the reorder's
log-odds computed by models that did not see the message's business, and measured leave one set
out.  The index answers when the probability reaches ``answer_probability``; below it the bot's
decline / out-of-scope rules apply as before.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from .logistic import LogisticModel, Vector, fit_logistic
from .rerank import SIGNALS
from .results import SearchResult

__all__ = ["GATE_FEATURES", "GATE_PATH", "AnswerGate", "fit_gate", "gate_features", "shipped_gate"]

#: The gate fitted on the development sets (``python -m parley.bots.gate_fit``).
GATE_PATH = Path(__file__).resolve().parents[1] / "data" / "answer_gate.npz"
#: Feature names, in the order of :func:`gate_features`' vector ("first": the reorder's first hit).
GATE_FEATURES = (
    "confidence",
    "confidence - answer threshold",
    "confidence - null level",
    "null level",
    "first logit",
    "first logit - second logit",
    "first share of the top hits",
    "fused gap, first to second",
    "first was fused first",
    "first in the customer's language",
    "log length of the question",
    "question not in English",
    *(f"first {s} {part}" for s in SIGNALS for part in ("score", "present")),
)


def gate_features(result: SearchResult, logits: Vector, null: float, threshold: float) -> Vector:
    """The gate's input for ``result`` (hits in the fused order, non-empty), ``logits`` the reorder
    model's log-odds of those hits, ``null``/``threshold`` the knowledge base's
    (:meth:`~.retrieval.KnowledgeIndex.thresholds`)."""
    first = int(np.argmax(logits))
    ranked = np.sort(logits)[::-1]
    second = float(ranked[1]) if len(ranked) > 1 else float(ranked[0]) - 10.0
    share = float(1.0 / np.exp(logits - logits[first]).sum())
    scores = [h.score for h in result.hits]
    hit = result.hits[first]
    same = hit.chunk.lang == result.lang or "mixed" in (hit.chunk.lang, result.lang)
    f = [
        result.confidence,
        result.confidence - threshold,
        result.confidence - null,
        null,
        float(logits[first]),
        float(logits[first]) - second,
        share,
        scores[0] - (scores[1] if len(scores) > 1 else 0.0),
        1.0 if first == 0 else 0.0,
        1.0 if same else 0.0,
        math.log1p(len(result.query)),
        0.0 if result.lang == "en" else 1.0,
    ]
    for name in SIGNALS:
        value = hit.signals.get(name)
        f += [value or 0.0, 0.0 if value is None else 1.0]
    return np.array(f)


@dataclass(frozen=True, slots=True)
class AnswerGate(LogisticModel):
    """Logistic weights over :data:`GATE_FEATURES`: the log-odds that the first hit is right."""

    FEATURES: ClassVar[tuple[str, ...]] = GATE_FEATURES

    def probability(self, result: SearchResult, logits: Vector, null: float, threshold: float) -> float:
        """P(the reorder's first hit of ``result`` answers the question); 0 without hits."""
        if not result.hits:
            return 0.0
        x = gate_features(result, logits, null, threshold)
        return float(self.probabilities(x[np.newaxis, :])[0])


def fit_gate(
    x: Vector,
    y: Sequence[bool] | npt.NDArray[np.bool_],
    *,
    l2: float = 1.0,
    iterations: int = 3000,
    step: float = 0.5,
    fitted_on: Sequence[str] = (),
) -> AnswerGate:
    """Fit the gate (deterministic); ``x`` holds one row of :func:`gate_features` per message,
    ``y`` whether its first hit is a right answer (always false for an out-of-scope message)."""
    m = fit_logistic(x, y, l2=l2, iterations=iterations, step=step, fitted_on=fitted_on)
    return AnswerGate(m.weights, m.bias, m.mean, m.scale, m.fitted_on)


@functools.cache
def shipped_gate() -> AnswerGate:
    """The shipped gate, read once per process (it is immutable)."""
    return AnswerGate.load(GATE_PATH)
