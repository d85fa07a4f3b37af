"""The learned reorder of the top hits: features, fitting, the index hook, the fitting tool."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.bots.evalsets import load_sets
from parley.bots.knowledge import KnowledgeIndex
from parley.bots.knowledge.chunking import Chunk
from parley.bots.knowledge.fusion import STANDING, Standing
from parley.bots.knowledge.rerank import FEATURES, RERANK_PATH, Reranker, features, fit_reranker
from parley.bots.knowledge.results import Hit, SearchResult
from parley.bots.rerank_fit import Question, collect, fit_on, ranked_right


def _hit(doc: str, score: float, lang: str = "en", kind: str = "faq", **signals: float) -> Hit:
    chunk = Chunk(id=f"{doc}::0", doc_id=doc, title=doc, text="...", kind=kind, lang=lang)
    return Hit(chunk, score, dict(signals))


def _result(*hits: Hit, lang: str = "en") -> SearchResult:
    return SearchResult("q", lang, list(hits), hits[0].score if hits else 0.0, True)


def test_features_name_every_column() -> None:
    res = _result(
        _hit("a", 0.8, **{"use-multilingual-v3": 0.9, "bm25": 0.5}),
        _hit("b", 0.6, lang="zh", kind="markdown", **{"use-multilingual-v3": 0.7, "gloss": 0.4}),
    )
    f = dict(zip(FEATURES, features(res, 1, res.hits[1]), strict=True))
    assert f["fused"] == 0.6 and f["gap to top"] == pytest.approx(0.2)
    assert f["rank 1"] == 1.0 and f["rank 0"] == 0.0
    assert f["gloss score"] == 0.4 and f["gloss present"] == 1.0 and f["bm25 present"] == 0.0
    assert f["same language"] == 0.0 and f["faq entry"] == 0.0
    first = dict(zip(FEATURES, features(res, 0, res.hits[0]), strict=True))
    assert first["same language"] == 1.0 and first["same language x multilingual score"] == 0.9
    assert first["use-multilingual-v3 rank"] == 0.0 and first["use-multilingual-v3 z"] == 0.0, "no standing"
    ranked = replace(res.hits[1], standing={"use-multilingual-v3 rank": 3.0, "all-MiniLM-L6-v2 z": -1.5})
    f = dict(zip(FEATURES, features(res, 1, ranked), strict=True))
    assert f["use-multilingual-v3 rank"] == 3.0 and f["all-MiniLM-L6-v2 z"] == -1.5 and f["bm25 rank"] == 0.0


def test_standing_places_a_chunk_among_those_a_signal_reads() -> None:
    """Session 14: rank = how many chunks the signal scores higher, z = standard score, both over
    the chunks the signal can read; a signal that cannot read the chunk is left out."""
    use, minilm = "use-multilingual-v3", "all-MiniLM-L6-v2"
    scores = {
        use: np.array([0.9, 0.5, 0.7, 0.1]),
        minilm: np.array([0.8, 0.0, 0.6, 0.2]),
        "bm25": np.array([0.3, 0.0, 0.9, 0.0]),
    }
    votes = {
        use: np.ones(4, dtype=bool),
        minilm: np.array([True, False, True, True]),
        "bm25": np.array([True, False, True, False]),
    }
    got = Standing(scores, votes).of(2)
    assert got[f"{use} rank"] == 1.0 and got[f"{minilm} rank"] == 1.0 and got["bm25 rank"] == 0.0
    read = np.array([0.8, 0.6, 0.2])
    assert got[f"{minilm} z"] == pytest.approx((0.6 - read.mean()) / read.std(), abs=1e-4)
    assert "bm25 z" not in got, "BM25 gets no z-score"
    assert not any(k.startswith(minilm) for k in Standing(scores, votes).of(1)), "MiniLM cannot read chunk 1"


@given(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=12), st.data())
def test_standing_rank_counts_the_chunks_scored_strictly_higher(
    values: list[float], data: st.DataObject
) -> None:
    """Ties are not "higher": the sorted, once-per-question count equals the plain count."""
    scores = {STANDING[0]: np.array(values)}
    votes = {STANDING[0]: np.ones(len(values), dtype=bool)}
    row = data.draw(st.integers(0, len(values) - 1))
    got = Standing(scores, votes).of(row)[f"{STANDING[0]} rank"]
    assert got == sum(v > values[row] for v in values)


def test_the_index_gives_every_hit_its_standing(kb_index: KnowledgeIndex) -> None:
    result = kb_index.search("how long does a refund take")
    assert result.hits and all(f"{STANDING[0]} rank" in h.standing for h in result.hits)
    ranks = [h.standing[f"{STANDING[0]} rank"] for h in result.hits]
    assert min(ranks) == 0.0, "the multilingual model's own favourite is among the top hits"


def test_standing_reads_raw_cosines_where_the_calibration_clips(kb_index: KnowledgeIndex) -> None:
    """Session 15 (audio holdout): for an off-topic question the calibration puts most chunks at
    0; their standing must still come from the model's cosines (each keeps its own rank), or the
    one chunk above the floor looks as if it stood far out."""
    use = STANDING[0]
    result = kb_index.search("what's the capital of Peru")
    clipped = [h for h in result.hits if h.signals.get(use) == 0.0]
    assert len(clipped) >= 2
    assert len({h.standing[f"{use} rank"] for h in clipped}) == len(clipped)


def test_a_search_without_the_reorder_skips_the_standing(kb_index: KnowledgeIndex) -> None:
    """Only the reorder reads it: a search with ``rerank`` off does not pay for it."""
    result = kb_index.search("how long does a refund take", config=replace(kb_index.config, rerank=False))
    assert result.hits and all(h.standing == {} for h in result.hits)


def _toy() -> tuple[np.ndarray, list[bool]]:
    """Hits whose right answer is always the one in the customer's language, whatever its rank."""
    rng = np.random.default_rng(3)
    rows, labels = [], []
    for _ in range(200):
        right = int(rng.integers(0, 3))
        hits = [
            _hit(f"d{i}", 0.9 - 0.1 * i, lang="en" if i == right else "zh", **{"use-multilingual-v3": 0.5})
            for i in range(3)
        ]
        res = _result(*hits)
        rows += [features(res, i, h) for i, h in enumerate(hits)]
        labels += [i == right for i in range(3)]
    return np.array(rows), labels


def test_fit_learns_the_rule_and_is_deterministic() -> None:
    x, y = _toy()
    model = fit_reranker(x, y)
    again = fit_reranker(x, y)
    assert np.array_equal(model.weights, again.weights)
    res = _result(_hit("zh1", 0.9, lang="zh"), _hit("en", 0.5), _hit("zh2", 0.4, lang="zh"))
    out = model.reorder(res)
    assert out.best is not None and out.best.chunk.doc_id == "en"
    assert (out.confidence, out.answerable) == (res.confidence, res.answerable)
    assert sorted(h.chunk.doc_id for h in out.hits) == sorted(h.chunk.doc_id for h in res.hits)
    assert model.reorder(_result(res.hits[0])) == _result(res.hits[0])


def test_fit_rejects_one_sided_labels() -> None:
    x, y = _toy()
    with pytest.raises(ValueError):
        fit_reranker(x, [True] * len(y))
    with pytest.raises(ValueError):
        fit_reranker(x, y[:-1])


def test_save_load_and_a_model_of_other_features(tmp_path: Path) -> None:
    x, y = _toy()
    model = fit_reranker(x, y)
    model.save(tmp_path / "r.npz")
    back = Reranker.load(tmp_path / "r.npz")
    res = _result(_hit("a", 0.9, lang="zh"), _hit("b", 0.5))
    assert np.allclose(back.scores(res), model.scores(res))
    np.savez_compressed(
        tmp_path / "bad.npz", weights=np.zeros(3), bias=np.array(0.0), mean=np.zeros(3), scale=np.ones(3)
    )
    with pytest.raises(ValueError, match="features"):
        Reranker.load(tmp_path / "bad.npz")
    assert Reranker.load(RERANK_PATH).weights.shape == (len(FEATURES),)


def test_the_index_reorders_only_when_configured(kb_index: KnowledgeIndex) -> None:
    """A model that always prefers the last hit shows the hook is used, and ``rerank=False`` off."""
    n = len(FEATURES)
    last = Reranker(np.eye(n)[FEATURES.index("gap to top")] * 10.0, 0.0, np.zeros(n), np.ones(n))
    index = KnowledgeIndex(list(kb_index.embedders.values()), kb_index.config, reranker=last)
    index.replace(kb_index.chunks)
    fused = kb_index.search("how long does delivery take")
    reordered = index.search("how long does delivery take")
    assert sorted(h.chunk.doc_id for h in reordered.hits) == sorted(h.chunk.doc_id for h in fused.hits)
    assert reordered.hits[0].score == pytest.approx(min(h.score for h in fused.hits))
    assert reordered.confidence == pytest.approx(fused.confidence)
    off = index.search("how long does delivery take", config=replace(index.config, rerank=False))
    assert [h.chunk.doc_id for h in off.hits] == [h.chunk.doc_id for h in fused.hits]


def test_collect_and_fit_on_a_development_set(kb_index: KnowledgeIndex) -> None:
    card = [s for s in load_sets() if s.name == "card"]
    questions = collect(card, list(kb_index.embedders.values()))
    assert questions and all(q.set_name == "card" and len(q.x) == len(q.y) for q in questions)
    model = fit_on(questions)
    assert ranked_right(None, questions) == sum(int(q.y[0]) for q in questions)
    assert 0 < ranked_right(model, questions) <= len(questions)
    toy = [Question("t", np.array([[1.0] * len(FEATURES), [0.0] * len(FEATURES)]), np.array([False, True]))]
    assert ranked_right(None, toy) == 0
