"""Fusion of the calibrated per-signal scores into one relevance (retrieval's step 4)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

__all__ = ["BM25", "GLOSS", "STANDING", "Floats", "rrf_order", "standing", "weighted"]

#: Signal name of the lexical retriever in weights and ``Hit.signals``.
BM25 = "bm25"
#: Signal name of BM25 over the chunks' dictionary glosses (retrieval's ``gloss`` view).
GLOSS = "gloss"

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
        w = np.minimum(weights.get(GLOSS, 1.0) * votes[GLOSS], 1.0)
        fused = fused + w * scores[GLOSS] * fused * (1.0 - fused)
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


#: The signals whose standing among all chunks is measured (:func:`standing`): rank for all
#: three, the z-score for the two dense models (BM25's distribution is mostly zeros).
STANDING = ("use-multilingual-v3", "all-MiniLM-L6-v2", BM25)


def standing(
    scores: Mapping[str, Floats], votes: Mapping[str, npt.NDArray[np.bool_]], row: int
) -> dict[str, float]:
    """Where each of :data:`STANDING`'s signals places chunk ``row`` among the chunks it reads:
    ``"<signal> rank"`` (how many score higher) and, for the dense models, ``"<signal> z"``
    (standard scores over those chunks).  The fused score compares a chunk with a fixed scale;
    this compares it with the rest of the same knowledge base for the same question, which is
    what tells a chunk that stands out from one every question lands near (docs/BOT_QUALITY.md,
    session 14).  A signal that cannot read the chunk is left out."""
    out: dict[str, float] = {}
    for name in STANDING:
        if name not in scores or not votes[name][row]:
            continue
        seen = scores[name][votes[name]]
        value = scores[name][row]
        out[f"{name} rank"] = float(np.sum(seen > value))
        if name != BM25 and len(seen) >= 3:
            out[f"{name} z"] = float((value - seen.mean()) / (seen.std() + 1e-6))
    return out
