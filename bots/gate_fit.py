"""Fit the shipped answer gate, and measure it on sets it was not fitted on.

``python -m parley.bots.gate_fit`` searches every answerable and out-of-scope message of the
development sets (holdouts are never read; :func:`~parley.bots.rerank_fit.search_sets`), gives each
the reorder model's log-odds *from a model fitted without the message's own business* — as the
shipped reorder is on a business it never saw — and fits :class:`~parley.bots.knowledge.gate.AnswerGate`
on whether the first hit in that order is a right answer; it writes ``bots/data/answer_gate.npz``.

``--loso`` writes nothing: each set is decided by a gate fitted on the *other* sets, whose rows'
log-odds come from reorder models that saw neither the row's set nor the left-out one.  It prints,
per probability threshold, how many first hits would be answered right and wrong, and with
``--pipeline`` the whole decision per set (thresholds, out-of-scope floor, same-language
preference, hand-overs) through the eval's :func:`~parley.bots.evalsets.run_messages`, with the
left-out reorder and without and with the left-out gate.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from parley.bots.config import BotConfig
from parley.bots.evalsets import UNSEEN_DIR, Outcome, load_sets, run_messages
from parley.bots.knowledge.embedders import Embedder, MiniLMEmbedder, MultilingualUSEEmbedder
from parley.bots.knowledge.gate import GATE_PATH, AnswerGate, fit_gate, gate_features
from parley.bots.knowledge.rerank import Reranker
from parley.bots.rerank_fit import Question, Searched, fit_on, search_sets

__all__ = ["GateRow", "decision_counts", "fit_gate_on", "gate_rows", "main"]


@dataclass(frozen=True, slots=True)
class GateRow:
    """One message's gate features and whether its first hit (in the reorder's order) is right."""

    set_name: str
    x: np.ndarray
    right: bool


def gate_rows(
    searched: Sequence[Searched], questions: Sequence[Question], leave_out: Collection[str] = ()
) -> list[GateRow]:
    """Each message's row, its log-odds from a reorder fitted without its set and ``leave_out``."""
    rows = []
    for name in sorted({m.set_name for m in searched} - set(leave_out)):
        model = fit_on([q for q in questions if q.set_name != name and q.set_name not in leave_out])
        for m in (m for m in searched if m.set_name == name):
            logits = model.hit_logits(m.result)
            first = m.result.hits[int(np.argmax(logits))].chunk.doc_id
            rows.append(
                GateRow(name, gate_features(m.result, logits, m.null, m.threshold), first in m.answers)
            )
    return rows


def fit_gate_on(rows: Sequence[GateRow]) -> AnswerGate:
    """The gate fitted on ``rows``."""
    return fit_gate(
        np.array([r.x for r in rows]),
        np.array([r.right for r in rows]),
        fitted_on=sorted({r.set_name for r in rows}),
    )


def decision_counts(outs: Sequence[Outcome]) -> tuple[int, int, int, int]:
    """(answerable answered right, answers given that are wrong, out-of-scope handed over,
    answerable declined or handed over)."""
    right = sum(o.right for o in outs if o.row["expect"] == "answer")
    wrong = sum(o.action == "answer" and not o.right for o in outs)
    oos = sum(o.action == "handoff" for o in outs if o.row["kind"] == "out-of-scope")
    held = sum(o.action != "answer" for o in outs if o.row["expect"] == "answer")
    return right, wrong, oos, held


def _curve(rows: Sequence[GateRow], p: np.ndarray) -> None:
    y = np.array([r.right for r in rows])
    print("| P(right) from | first hits answered right | answered wrong | share right |\n|---|---|---|---|")
    for tau in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
        on = p >= tau
        print(
            f"| {tau:.2f} | {int((on & y).sum())} | {int((on & ~y).sum())} | {(on & y).sum() / max(on.sum(), 1):.3f} |"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Fit and write the gate, or (``--loso``) print the leave-one-set-out tables."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.gate_fit", description=__doc__)
    ap.add_argument("--sets", type=Path, default=UNSEEN_DIR, help="folder of evaluation sets")
    ap.add_argument("--out", type=Path, default=GATE_PATH, help="where to write the gate")
    ap.add_argument("--loso", action="store_true", help="measure leave-one-set-out; write nothing")
    ap.add_argument("--pipeline", action="store_true", help="with --loso: also the whole decision")
    ap.add_argument(
        "--probability",
        default="",
        help="with --pipeline: comma-separated answer_probability values to compare (default: the bot's)",
    )
    ap.add_argument(
        "--overrule", type=float, help="with --pipeline: overrule_floor_from (default: the bot's)"
    )
    args = ap.parse_args(argv)
    embedders: list[Embedder] = [MiniLMEmbedder(), MultilingualUSEEmbedder()]
    sets = [s for s in load_sets(args.sets) if not s.holdout]
    searched = search_sets(sets, embedders)
    questions = [m.question() for m in searched if m.answers]
    if not args.loso:
        rows = gate_rows(searched, questions)
        fit_gate_on(rows).save(args.out)
        print(f"fitted on {len(rows)} messages of {len(sets)} sets → {args.out}")
        return
    held: list[GateRow] = []
    p: list[float] = []
    cfg = BotConfig().retrieval()
    taus = [float(t) for t in args.probability.split(",") if t.strip()] or [cfg.answer_probability]
    table = [
        "| set | without the gate: right, wrong, out-of-scope handed, answerable held | "
        + " | ".join(f"gate from {t:.2f}" for t in taus)
        + " |",
        "|---|---|" + "---|" * len(taus),
    ]
    totals = np.zeros((1 + len(taus), 4), dtype=int)
    for s in sets:
        gate = fit_gate_on(gate_rows(searched, questions, leave_out={s.name}))
        mine = gate_rows([m for m in searched if m.set_name == s.name], questions)
        held += mine
        p += list(gate.probabilities(np.array([r.x for r in mine])))
        if args.pipeline:
            reorder: Reranker = fit_on([q for q in questions if q.set_name != s.name])
            runs = [(cfg, None), *((replace(cfg, answer_probability=t), gate) for t in taus)]
            over = {} if args.overrule is None else {"overrule_floor_from": args.overrule}
            counts = [
                decision_counts(run_messages(s, embedders, c, reranker=reorder, gate=g, **over))
                for c, g in runs
            ]
            totals += np.array(counts)
            table.append(f"| {s.name} | " + " | ".join(", ".join(map(str, c)) for c in counts) + " |")
    _curve(held, np.array(p))
    if args.pipeline:
        table.append("| **total** | " + " | ".join(", ".join(map(str, t)) for t in totals) + " |")
        print("\n" + "\n".join(table))


if __name__ == "__main__":
    main()
