"""Fusion of the calibrated per-signal scores into one relevance (retrieval's step 4)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

__all__ = [
    "BM25",
    "GLOSS",
    "GLOSS_WEIGHT",
    "STANDING",
    "STANDING_KEYS",
    "Floats",
    "Standing",
    "rrf_order",
    "weighted",
]

#: Signal name of the lexical retriever in weights and ``Hit.signals``.
BM25 = "bm25"
#: Signal name of BM25 over the chunks' dictionary glosses (retrieval's ``gloss`` view).
GLOSS = "gloss"
#: The gloss's weight when the weights name none: the share of the room left it may take, per unit
#: of its score and the fused one (2 since session 23, 1 before; docs/BOT_QUALITY.md "Session 23").
GLOSS_WEIGHT = 2.0

Floats = npt.NDArray[np.float64]


def weighted(
    scores: dict[str, Floats],
    votes: dict[str, npt.NDArray[np.bool_]],
    weights: Mapping[str, float],
    *,
    boost: bool,
) -> Floats:
    """The weighted mean of the voting signals; with ``boost`` BM25 only lifts the dense mean;
    the gloss signal only ever lifts the result."""
    fused = _mean(scores, votes, weights, boost=boost)
    if GLOSS in scores:
        # A dictionary gloss is lossy word salad (a word's first senses, ambiguous ones
        # included): a shared word corroborates what the other signals already see in the
        # entry written in the other language, it cannot make a match from nothing.  So it
        # lifts a chunk in proportion to its fused score and to the room left (as a mean voter
        # it dragged cross-lingual answers down; as an independent noisy-OR vote it lifted
        # unrelated entries over right same-language ones: docs/BOT_QUALITY.md, session 7).
        # Its weight scales the share of that room it takes (at most all of it).
        share = np.minimum(weights.get(GLOSS, GLOSS_WEIGHT) * scores[GLOSS] * fused, 1.0) * votes[GLOSS]
        fused = fused + share * (1.0 - fused)
    return fused


def _mean(
    scores: dict[str, Floats],
    votes: dict[str, npt.NDArray[np.bool_]],
    weights: Mapping[str, float],
    *,
    boost: bool,
) -> Floats:
    n = len(next(iter(scores.values())))
    num, den = np.zeros(n), np.zeros(n)
    dense = [name for name in scores if name not in (BM25, GLOSS)]
    for name in dense:
        w = weights.get(name, 1.0) * votes[name]
        num += w * scores[name]
        den += w
    if BM25 not in scores:
        return np.where(den > 0, num / np.maximum(den, 1e-9), 0.0)
    w = weights.get(BM25, 1.0) * votes[BM25]
    if boost and dense:
        # Lexical overlap is evidence when present, but its absence is not evidence
        # against: paraphrases and typos share no words ("能退吗" vs "退货").  So BM25
        # adds to the dense mean like an independent vote (noisy-OR), never pulls it down.
        base = np.where(den > 0, num / np.maximum(den, 1e-9), 0.0)
        boosted: Floats = base + np.minimum(w, 1.0) * scores[BM25] * (1.0 - base)
        return boosted
    num += w * scores[BM25]
    den += w
    return np.where(den > 0, num / np.maximum(den, 1e-9), 0.0)


def rrf_order(
    scores: dict[str, Floats],
    votes: dict[str, npt.NDArray[np.bool_]],
    weights: Mapping[str, float],
    k: int = 60,
) -> npt.NDArray[np.intp]:
    """Reciprocal-rank fusion order (each signal ranks only the chunks it can read)."""
    total = np.zeros(len(next(iter(scores.values()))))
    for n, s in scores.items():
        ranked = np.where(votes[n], s, -np.inf)
        ranks = np.empty(len(s))
        ranks[np.argsort(-ranked, kind="stable")] = np.arange(len(s))
        # Chunks a signal cannot see get no vote rather than the worst rank.
        total += np.where(votes[n], weights.get(n, 1.0) / (k + ranks + 1), 0.0)
    return np.argsort(-total, kind="stable")


#: The signals whose standing among all chunks is measured (:class:`Standing`): rank for all
#: three, the z-score for the two dense models (BM25's distribution is mostly zeros).
STANDING = ("use-multilingual-v3", "all-MiniLM-L6-v2", BM25)
#: The keys of :meth:`Standing.of`, in a fixed order (the reorder's features read them so).
STANDING_KEYS = (*(f"{s} rank" for s in STANDING), *(f"{s} z" for s in STANDING[:2]))


class Standing:
    """Where each of :data:`STANDING`'s signals places a chunk among the chunks it reads, for
    one question: ``"<signal> rank"`` (how many score higher) and, for the dense models,
    ``"<signal> z"`` (standard score over those chunks).  The fused score compares a chunk with
    a fixed scale; this compares it with the rest of the same knowledge base for the same
    question, which is what tells a chunk that stands out from one every question lands near
    (docs/BOT_QUALITY.md, session 14).  Pass the dense models' raw cosines: their calibration
    clips every unrelated chunk to 0, and a z-score over those zeros made the one chunk above
    the floor stand out for an off-topic question (session 15).  Each signal's order and spread
    are computed once per question, not once per hit."""

    __slots__ = ("_scores", "_stats", "_votes")

    def __init__(self, scores: Mapping[str, Floats], votes: Mapping[str, npt.NDArray[np.bool_]]) -> None:
        self._scores = scores
        self._votes = votes
        self._stats: dict[str, tuple[Floats, float, float]] = {}
        for name in STANDING:
            seen = scores[name][votes[name]] if name in scores else None
            if seen is not None and len(seen):
                self._stats[name] = (np.sort(seen), float(seen.mean()), float(seen.std()))

    def of(self, row: int) -> dict[str, float]:
        """Chunk ``row``'s standing; a signal that cannot read the chunk is left out."""
        out: dict[str, float] = {}
        for name, (ordered, mean, std) in self._stats.items():
            if not self._votes[name][row]:
                continue
            value = self._scores[name][row]
            out[f"{name} rank"] = float(len(ordered) - np.searchsorted(ordered, value, side="right"))
            if name != BM25 and len(ordered) >= 3:
                out[f"{name} z"] = float((value - mean) / (std + 1e-6))
        return out
