"""Fit the shipped sentiment model, and measure it on sets it was not fitted on.

``python -m parley.bots.sentiment_fit`` fits :class:`~parley.bots.sentiment_model.SentimentModel`
on every sentiment-labelled message of the development sets (holdouts are never read) and writes
``bots/data/sentiment_model.npz``.  ``--loso`` writes nothing: for each labelled set it fits on the
*other* sets and scores that one, next to the scorer without the model — the honest figure for
sets whose labels the shipped model has seen.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.bots.evalsets import UNSEEN_DIR, EvalSet, load_sets
from parley.bots.knowledge.embedders import Embedder, MultilingualUSEEmbedder
from parley.bots.sentiment import SentimentScorer
from parley.bots.sentiment_model import MODEL_PATH, SentimentModel, fit

__all__ = ["Labelled", "fit_development", "labelled", "leave_one_set_out", "main"]


@dataclass(frozen=True, slots=True)
class Labelled:
    """One set's sentiment-labelled messages and their vectors."""

    name: str
    texts: list[str]
    labels: list[str]
    vectors: np.ndarray


def labelled(sets: Sequence[EvalSet], embedder: Embedder) -> list[Labelled]:
    """The development sets that label their messages' sentiment (holdouts are left out)."""
    out = []
    for s in sets:
        rows = [r for r in s.messages if r.get("sentiment")]
        if s.holdout or not rows:
            continue
        texts = [str(r["text"]) for r in rows]
        out.append(Labelled(s.name, texts, [str(r["sentiment"]) for r in rows], embedder.encode(texts)))
    return out


def fit_development(data: Sequence[Labelled], embedder: Embedder) -> SentimentModel:
    """The model fitted on every labelled message of ``data``."""
    vectors = np.vstack([d.vectors for d in data])
    return fit(vectors, [label for d in data for label in d.labels], embedder=embedder.name)


def _counts(pred: Sequence[str], gold: Sequence[str]) -> np.ndarray:
    pairs = list(zip(pred, gold, strict=True))
    return np.array(
        [
            sum(p == g for p, g in pairs),
            sum(p == g == "negative" for p, g in pairs),
            sum(g == "negative" for g in gold),
            sum(p == "negative" for p in pred),
            len(pairs),
        ]
    )


def leave_one_set_out(data: Sequence[Labelled], embedder: Embedder) -> dict[str, dict[str, np.ndarray]]:
    """Per set: [label right, negatives found, negatives, called negative, messages] for the
    scorer without the model and with a model fitted on the other sets."""
    plain = SentimentScorer(embedder=embedder)
    out: dict[str, dict[str, np.ndarray]] = {}
    for held in data:
        model = fit_development([d for d in data if d.name != held.name], embedder)
        with_model = SentimentScorer(embedder=embedder, model=model)
        out[held.name] = {
            "without the model": _counts([plain.score(t).label for t in held.texts], held.labels),
            "with the model": _counts([with_model.score(t).label for t in held.texts], held.labels),
        }
    return out


def _cell(c: np.ndarray) -> str:
    right, tp, neg, called, n = (int(v) for v in c)
    return f"{right / n:.2f} ({right}/{n}) | {tp / max(neg, 1):.2f} ({tp}/{neg}) | {tp / max(called, 1):.2f} ({tp}/{called})"


def main(argv: Sequence[str] | None = None) -> None:
    """Fit and write the model, or (``--loso``) print the leave-one-set-out table."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.sentiment_fit", description=__doc__)
    ap.add_argument("--sets", type=Path, default=UNSEEN_DIR, help="folder of evaluation sets")
    ap.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    ap.add_argument("--loso", action="store_true", help="measure leave-one-set-out; write nothing")
    args = ap.parse_args(argv)
    use = MultilingualUSEEmbedder()
    data = labelled(load_sets(args.sets), use)
    if not args.loso:
        fit_development(data, use).save(args.out)
        print(f"fitted on {sum(len(d.texts) for d in data)} messages of {len(data)} sets → {args.out}")
        return
    table = leave_one_set_out(data, use)
    print("| set | scorer | label right | negative recall | negative precision |\n|---|---|---|---|---|")
    for name, rows in table.items():
        for scorer, c in rows.items():
            print(f"| {name} | {scorer} | {_cell(c)} |")
    for scorer in ("without the model", "with the model"):
        total = sum((rows[scorer] for rows in table.values()), np.zeros(5, dtype=int))
        print(f"| **total** | {scorer} | {_cell(total)} |")


if __name__ == "__main__":
    main()
