"""Fit the shipped reorder of the top hits, and measure it on sets it was not fitted on.

``python -m parley.bots.rerank_fit`` searches every answerable message of the development sets
(holdouts are never read) with the bot's retrieval, keeps each top hit's
:func:`~parley.bots.knowledge.rerank.features` and whether it is a right answer, fits
:class:`~parley.bots.knowledge.rerank.Reranker` and writes ``bots/data/rerank_model.npz``.

``--loso`` writes nothing: each set is reordered by a model fitted on the *other* sets; it prints
how often the first hit is right before and after (the order alone), and with ``--pipeline`` the
whole decision (thresholds, same-language preference, hand-overs) through the eval's
:func:`~parley.bots.evalsets.run_messages` — the honest figures for sets the shipped model saw.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.bots.config import BotConfig
from parley.bots.evalsets import UNSEEN_DIR, EvalSet, build_index, load_sets, retrieval_metrics, run_messages
from parley.bots.knowledge.embedders import Embedder, MiniLMEmbedder, MultilingualUSEEmbedder
from parley.bots.knowledge.rerank import RERANK_PATH, Reranker, features, fit_reranker
from parley.bots.knowledge.results import SearchResult

__all__ = ["Question", "Searched", "collect", "fit_on", "main", "ranked_right", "search_sets"]


@dataclass(frozen=True, slots=True)
class Question:
    """One answerable message's top hits: a feature row and a right/wrong label per hit."""

    set_name: str
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True, slots=True)
class Searched:
    """One message of a development set as the bot's retrieval found it, in the fused order
    (no reorder), with its knowledge base's null level and answer threshold."""

    set_name: str
    result: SearchResult
    null: float
    threshold: float
    answers: frozenset[str]
    kind: str

    def question(self) -> Question:
        """The message's reorder rows (:func:`~parley.bots.knowledge.rerank.features`) and labels."""
        hits = self.result.hits
        x = np.array([features(self.result, i, h) for i, h in enumerate(hits)])
        return Question(self.set_name, x, np.array([h.chunk.doc_id in self.answers for h in hits]))


def search_sets(sets: Sequence[EvalSet], embedders: Sequence[Embedder]) -> list[Searched]:
    """Search every answerable and every out-of-scope message of the development sets (holdouts
    are never read) with the bot's own retrieval, without any reorder; messages with no hit are
    left out."""
    cfg = BotConfig().retrieval()
    out = []
    for s in sets:
        if s.holdout:
            continue
        index = build_index(embedders, s.kb, cfg)
        null, threshold = index.thresholds(cfg)
        for row in s.messages:
            if row["expect"] != "answer" and row["kind"] != "out-of-scope":
                continue
            result = index.search(str(row["text"]))
            if result.hits:
                out.append(Searched(s.name, result, null, threshold, frozenset(row["answers"]), row["kind"]))
    return out


def collect(sets: Sequence[EvalSet], embedders: Sequence[Embedder]) -> list[Question]:
    """Every answerable message's top hits, searched by :func:`search_sets`."""
    return [m.question() for m in search_sets(sets, embedders) if m.answers]


def fit_on(questions: Sequence[Question]) -> Reranker:
    """The model fitted on every hit of ``questions``."""
    names = sorted({q.set_name for q in questions})
    return fit_reranker(
        np.vstack([q.x for q in questions]), np.concatenate([q.y for q in questions]), fitted_on=names
    )


def ranked_right(model: Reranker | None, questions: Sequence[Question]) -> int:
    """How many ``questions`` have a right first hit in the model's order (``None``: as searched)."""
    right = 0
    for q in questions:
        if model is None:
            right += int(q.y[0])
            continue
        right += int(q.y[int(np.argmax(model.logits(q.x)))])
    return right


def main(argv: Sequence[str] | None = None) -> None:
    """Fit and write the model, or (``--loso``) print the leave-one-set-out table."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.rerank_fit", description=__doc__)
    ap.add_argument("--sets", type=Path, default=UNSEEN_DIR, help="folder of evaluation sets")
    ap.add_argument("--out", type=Path, default=RERANK_PATH, help="where to write the model")
    ap.add_argument("--loso", action="store_true", help="measure leave-one-set-out; write nothing")
    ap.add_argument("--pipeline", action="store_true", help="with --loso: also the whole decision")
    args = ap.parse_args(argv)
    embedders: list[Embedder] = [MiniLMEmbedder(), MultilingualUSEEmbedder()]
    sets = [s for s in load_sets(args.sets) if not s.holdout]
    questions = collect(sets, embedders)
    if not args.loso:
        fit_on(questions).save(args.out)
        print(f"fitted on {len(questions)} questions of {len(sets)} sets → {args.out}")
        return
    print(
        "| set | first hit right, fused order | reordered (fitted without the set) |"
        + (" top-1 answered, without | with |" if args.pipeline else "")
        + "\n|---|---|---|"
        + ("---|---|" if args.pipeline else "")
    )
    totals = np.zeros(4, dtype=int)
    for s in sets:
        mine = [q for q in questions if q.set_name == s.name]
        model = fit_on([q for q in questions if q.set_name != s.name])
        row = [ranked_right(None, mine), ranked_right(model, mine)]
        if args.pipeline:
            for m in (None, model):
                row.append(int(retrieval_metrics(run_messages(s, embedders, reranker=m))["top-1 all"].hits))
        totals[: len(row)] += row
        print(f"| {s.name} | " + " | ".join(f"{v}/{len(mine)}" for v in row) + " |")
    n = len(questions)
    print("| **total** | " + " | ".join(f"{v}/{n}" for v in totals[: 4 if args.pipeline else 2]) + " |")


if __name__ == "__main__":
    main()
