"""The learned answer gate: features, fitting, the index hook, the fitting tool, the shipped files."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from parley.bots.evalsets import Outcome, load_sets
from parley.bots.gate_fit import GateRow, decision_counts, fit_gate_on, gate_rows
from parley.bots.knowledge import KnowledgeIndex
from parley.bots.knowledge.chunking import Chunk
from parley.bots.knowledge.gate import (
    GATE_FEATURES,
    GATE_PATH,
    AnswerGate,
    fit_gate,
    gate_features,
    shipped_gate,
)
from parley.bots.knowledge.rerank import FEATURES, Reranker, shipped_reranker
from parley.bots.knowledge.results import Hit, SearchResult
from parley.bots.rerank_fit import Searched


def _hit(doc: str, score: float, lang: str = "en", **signals: float) -> Hit:
    return Hit(
        Chunk(id=f"{doc}::0", doc_id=doc, title=doc, text="...", kind="faq", lang=lang), score, dict(signals)
    )


def _result(*hits: Hit, query: str = "how do i pay", lang: str = "en") -> SearchResult:
    return SearchResult(query, lang, list(hits), hits[0].score if hits else 0.0, True)


def test_features_name_every_column_and_follow_the_reorder() -> None:
    res = _result(
        _hit("a", 0.6, **{"use-multilingual-v3": 0.7, "bm25": 0.4}),
        _hit("b", 0.5, lang="zh", **{"use-multilingual-v3": 0.9, "gloss": 0.3}),
    )
    logits = np.array([-1.0, 1.0])  # the reorder puts b first
    f = dict(zip(GATE_FEATURES, gate_features(res, logits, null=0.2, threshold=0.3), strict=True))
    assert f["confidence"] == 0.6
    assert f["confidence - answer threshold"] == pytest.approx(0.3)
    assert f["confidence - null level"] == pytest.approx(0.4) and f["null level"] == 0.2
    assert f["first logit"] == 1.0 and f["first logit - second logit"] == 2.0
    assert f["first share of the top hits"] == pytest.approx(1 / (1 + math.exp(-2)))
    assert f["fused gap, first to second"] == pytest.approx(0.1)
    assert f["first was fused first"] == 0.0 and f["first in the customer's language"] == 0.0
    assert f["log length of the question"] == pytest.approx(math.log1p(len("how do i pay")))
    assert f["question not in English"] == 0.0
    assert f["first use-multilingual-v3 score"] == 0.9 and f["first gloss present"] == 1.0
    assert f["first bm25 present"] == 0.0
    one = dict(
        zip(GATE_FEATURES, gate_features(_result(res.hits[0]), np.array([0.5]), 0.2, 0.3), strict=True)
    )
    assert one["first was fused first"] == 1.0 and one["first logit - second logit"] == 10.0


def _toy() -> tuple[np.ndarray, list[bool]]:
    """Messages whose first hit is right exactly when the reorder's lead is large."""
    rng = np.random.default_rng(5)
    rows, labels = [], []
    for _ in range(300):
        lead = float(rng.uniform(0, 4))
        res = _result(_hit("a", float(rng.uniform(0.2, 0.8))), _hit("b", 0.1))
        rows.append(gate_features(res, np.array([lead, 0.0]), 0.2, 0.3))
        labels.append(lead > 2.0)
    return np.array(rows), labels


def test_fit_learns_the_rule_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    x, y = _toy()
    gate = fit_gate(x, y, fitted_on=["toy"])
    assert np.array_equal(gate.weights, fit_gate(x, y).weights)
    res = _result(_hit("a", 0.5), _hit("b", 0.1))
    sure = gate.probability(res, np.array([3.5, 0.0]), 0.2, 0.3)
    unsure = gate.probability(res, np.array([0.5, 0.0]), 0.2, 0.3)
    assert sure > 0.8 > 0.2 > unsure
    assert gate.probability(_result(), np.zeros(0), 0.2, 0.3) == 0.0
    gate.save(tmp_path / "g.npz")
    back = AnswerGate.load(tmp_path / "g.npz")
    assert back.fitted_on == ("toy",)
    assert back.probability(res, np.array([3.5, 0.0]), 0.2, 0.3) == pytest.approx(sure)
    np.savez_compressed(
        tmp_path / "bad.npz", weights=np.zeros(3), bias=np.array(0.0), mean=np.zeros(3), scale=np.ones(3)
    )
    with pytest.raises(ValueError, match="features"):
        AnswerGate.load(tmp_path / "bad.npz")
    with pytest.raises(ValueError):
        fit_gate(x, [False] * len(y))


def _constant_gate(bias: float) -> AnswerGate:
    n = len(GATE_FEATURES)
    return AnswerGate(np.zeros(n), bias, np.zeros(n), np.ones(n))


def test_the_index_answers_by_the_gate_only_when_configured(kb_index: KnowledgeIndex) -> None:
    """A gate that is always sure (or never) decides ``answerable`` whatever the confidence."""
    question = "how long does delivery take"
    embedders = list(kb_index.embedders.values())
    n = len(FEATURES)
    reorder = Reranker(np.zeros(n), 0.0, np.zeros(n), np.ones(n))
    for bias, expect in ((5.0, True), (-5.0, False)):
        index = KnowledgeIndex(embedders, kb_index.config, reranker=reorder, gate=_constant_gate(bias))
        index.replace(kb_index.chunks)
        got = index.search(question)
        assert got.answerable is expect and got.probability == pytest.approx(1 / (1 + math.exp(-bias)))
        assert got.confidence == pytest.approx(kb_index.search(question).confidence)
        off = index.search(question, config=replace(index.config, gate=False))
        assert off.probability is None and off.answerable == kb_index.search(question).answerable
    never = KnowledgeIndex(embedders, kb_index.config, reranker=reorder, gate=_constant_gate(-5.0))
    never.replace(kb_index.chunks)
    assert never.search(question, config=replace(never.config, answer_probability=0.0)).answerable
    # The gate reads the reorder's log-odds: without a reorder the threshold decides.
    alone = KnowledgeIndex(embedders, kb_index.config, gate=_constant_gate(-5.0))
    alone.replace(kb_index.chunks)
    assert alone.search(question).probability is None


def _searched(name: str, right_first: bool) -> Searched:
    hits = [
        _hit("right", 0.7, **{"use-multilingual-v3": 0.8}),
        _hit("wrong", 0.3, **{"use-multilingual-v3": 0.2}),
    ]
    if not right_first:
        hits.reverse()
    return Searched(name, _result(*hits), 0.2, 0.3, frozenset({"right"}), "plain")


def test_gate_rows_take_the_log_odds_of_a_reorder_that_did_not_see_the_set() -> None:
    searched = [_searched(n, i % 3 != 0) for n in ("s1", "s2", "s3") for i in range(6)]
    questions = [m.question() for m in searched]
    rows = gate_rows(searched, questions)
    assert [r.set_name for r in rows] == [m.set_name for m in searched]
    # Every reorder learns "the hit named right": its first hit is the right one, whatever the fused order.
    assert all(r.right for r in rows)
    assert {r.set_name for r in gate_rows(searched, questions, leave_out={"s2"})} == {"s1", "s3"}
    rows[0] = GateRow(rows[0].set_name, rows[0].x, False)
    assert fit_gate_on(rows).fitted_on == ("s1", "s2", "s3")


def test_decision_counts() -> None:
    def out(kind: str, expect: str, action: str, doc: str = "") -> Outcome:
        row = {"kind": kind, "expect": expect, "answers": ["a"] if expect == "answer" else []}
        return Outcome(row, action, doc, 0.5, "", False, "")

    outs = [
        out("plain", "answer", "answer", "a"),
        out("plain", "answer", "answer", "b"),
        out("plain", "answer", "rephrase"),
        out("out-of-scope", "handoff", "handoff"),
        out("out-of-scope", "handoff", "answer", "a"),
    ]
    assert decision_counts(outs) == (1, 2, 1, 1)


def test_the_shipped_models_were_fitted_on_the_current_development_sets() -> None:
    """Flipping a holdout to development (or adding a set) needs ``python -m parley.bots.rerank_fit``
    then ``python -m parley.bots.gate_fit``; this fails until both are run."""
    current = tuple(sorted(s.name for s in load_sets() if not s.holdout))
    assert shipped_reranker().fitted_on == current
    assert shipped_gate().fitted_on == current
    assert AnswerGate.load(GATE_PATH).weights.shape == (len(GATE_FEATURES),)
