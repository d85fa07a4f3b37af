from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from parley.bots.knowledge import Document, KnowledgeIndex, chunk_documents
from parley.bots.knowledge.retrieval import BM25


def test_fused_search_answers_both_languages_and_across(kb_index: KnowledgeIndex):
    assert kb_index.search("how long does delivery take").best.chunk.doc_id in {
        "en.ship-time",
        "zh.ship-time",
    }
    assert kb_index.search("积分会过期吗").best.chunk.doc_id == "zh.member-points"
    # Only the Chinese KB knows about cash on delivery; only the English one about gift cards.
    assert kb_index.search("do you do cash on delivery").best.chunk.doc_id == "zh.ship-cod"
    assert kb_index.search("有礼品卡卖吗").best.chunk.doc_id == "en.gift-card"


def test_confidence_decides_answer_or_hand_over(kb_index: KnowledgeIndex):
    good = kb_index.search("what is your return policy")
    assert good.answerable and good.confidence > 0.6
    assert not kb_index.search("what's the weather like in Shanghai tomorrow").answerable
    assert set(good.best.signals) == {BM25, "all-MiniLM-L6-v2", "use-multilingual-v3"}


def test_routing_keeps_english_only_model_off_chinese(kb_index: KnowledgeIndex):
    res = kb_index.search("退款多久到账")
    assert res.lang == "zh"
    assert all("all-MiniLM-L6-v2" not in h.signals for h in res.hits)
    unrouted = kb_index.search("退款多久到账", config=replace(kb_index.config, routing=False))
    assert "all-MiniLM-L6-v2" in unrouted.best.signals


def test_reindex_without_restart_reuses_stored_vectors(minilm, use):
    index = KnowledgeIndex([minilm, use])
    docs = [Document(id="a", title="Opening hours", text="We are open 9 to 5.", kind="text")]
    chunks = chunk_documents(docs)
    stored = index.embed(chunks)
    assert {(v.model, v.view) for v in stored} == {
        (m, v) for m in (minilm.name, use.name) for v in ("head", "body")
    }
    index.replace(chunks, stored)  # as when loading from a store: nothing to embed
    assert index.search("when are you open").best.chunk.doc_id == "a"

    new = Document(id="b", title="Pets", text="Dogs are welcome in all our stores.", kind="text")
    index.upsert(chunk_documents([new]))
    assert index.search("can I bring my dog").best.chunk.doc_id == "b"
    changed = Document(
        id="a", title="Opening hours", text="We are open 10 to 6, closed on Mondays.", kind="text"
    )
    index.upsert(chunk_documents([changed]))
    assert len(index.chunks) == 2 and "Mondays" in index.search("opening hours").best.chunk.text
    index.remove(["b"])
    assert [c.doc_id for c in index.chunks] == ["a"]


def test_empty_index_and_empty_query(minilm, use):
    index = KnowledgeIndex([minilm, use])
    assert index.search("anything").hits == []
    assert not index.search("   ").answerable


def test_a_translation_made_at_ingest_lets_every_signal_read_the_entry(minilm, use):
    """A Chinese-only entry with an English translation (``Chunk.translation``, written at ingest
    by an LLM) is read by the English-only model and BM25 too, so an English question finds it
    with the confidence a same-language entry would get; the translation is stored as view ``alt``."""
    zh = Document(
        id="zh.tipping",
        title="小费",
        question="导游小费需要自己付吗？",
        text="大多数出境线路不含导游和司机小费，建议每人每天50到80元，由领队在第一天统一收取。",
        kind="faq",
        lang="zh",
    )
    en = Document(
        id="en.guide-lang",
        title="Guides",
        question="Do your tour guides speak English?",
        text="Every international tour has an English-speaking tour leader; local guides speak the local language.",
        kind="faq",
    )
    plain = chunk_documents([zh, en])
    q = "do we have to tip the tour guide ourselves?"
    index = KnowledgeIndex([minilm, use])
    index.replace(plain)
    before = next(h for h in index.search(q).hits if h.chunk.doc_id == "zh.tipping")
    assert set(before.signals) == {"use-multilingual-v3"}

    english = (
        "Do I need to pay the tour guide's tips myself?\nMost international tours do not include "
        "tips for the guide and driver; we suggest 50 to 80 yuan per person per day, collected by "
        "the tour leader on the first day."
    )
    translated = [replace(plain[0], translation=english), plain[1]]
    stored = index.embed(translated)
    assert {v.view for v in stored if v.chunk_id == translated[0].id} == {"head", "body", "alt"}
    assert {v.view for v in stored if v.chunk_id == translated[1].id} == {"head", "body"}
    index.replace(translated, stored)
    after = index.search(q)
    assert after.best.chunk.doc_id == "zh.tipping"
    assert set(after.best.signals) == {BM25, "all-MiniLM-L6-v2", "use-multilingual-v3"}
    assert after.best.score > before.score
    # A Chinese question still reads the entry itself.
    assert index.search("小费要自己给吗").best.chunk.doc_id == "zh.tipping"
    # Re-ingesting the entry with its new translation embeds it again (no stale vector reused).
    again = KnowledgeIndex([minilm, use])
    again.replace(plain)
    again.upsert(translated[:1])
    assert "all-MiniLM-L6-v2" in again.search(q).best.signals
    assert again.search(q).best.chunk.doc_id == "zh.tipping"


def test_thresholds_are_calibrated_per_knowledge_base(kb_index: KnowledgeIndex, minilm, use):
    """The answer threshold follows the knowledge base's own null level (the best confidence of
    fixed unrelated questions), within its bounds; ``adaptive=False`` is the fixed threshold."""
    from parley.bots.evalsets import UNSEEN_DIR, build_index
    from parley.bots.knowledge.probes import NULL_PROBES

    cfg = kb_index.config
    fixed = replace(cfg, adaptive=False)
    null, threshold = kb_index.thresholds()
    probes = [kb_index.search(p, config=fixed).confidence for p in NULL_PROBES]
    assert null == pytest.approx(float(np.quantile(probes, cfg.null_quantile)))
    assert threshold == min(max(null + cfg.probe_margin, cfg.min_answer_threshold), cfg.answer_threshold)
    assert kb_index.thresholds(fixed) == (0.0, cfg.answer_threshold)
    # ``answerable`` uses the calibrated threshold; the cap still bounds it.
    res = kb_index.search("what is your return policy")
    assert res.answerable == (res.confidence >= threshold)
    assert kb_index.thresholds(replace(cfg, answer_threshold=0.0))[1] == 0.0
    # Two businesses, two null levels: a knowledge base of everyday words (food delivery)
    # scores unrelated questions lower than a bank's, so its threshold is lower too.
    card = build_index([minilm, use], UNSEEN_DIR / "card" / "kb").thresholds()
    food = build_index([minilm, use], UNSEEN_DIR / "food" / "kb").thresholds()
    assert card[0] != food[0] and (card[1] < food[1]) == (card[0] < food[0])


def test_empty_index_has_no_null_level(minilm, use):
    assert KnowledgeIndex([minilm, use]).thresholds()[0] == 0.0


def test_each_configuration_has_its_own_null_level(kb_index: KnowledgeIndex):
    """The null level of one configuration (e.g. USE alone) is not reused for another."""
    use_only = replace(kb_index.config, signals=("use-multilingual-v3",), views=("body",), routing=False)
    a, b = kb_index.null_level(use_only), kb_index.null_level()
    assert a != b and kb_index.null_level(use_only) == a and kb_index.null_level() == b


def test_one_probe_the_knowledge_base_happens_to_answer_does_not_set_the_null_level(minilm, use):
    """The null level is a high quantile of the probes' confidences, not their maximum: a business
    whose FAQ answers one unrelated probe by chance (a garden centre and "how do I grow tomatoes
    on my balcony") keeps a threshold its own customers can clear."""
    from parley.bots.knowledge.probes import NULL_PROBES

    faq = [
        ("hours", "When are you open?", "Every day from 8am to 6pm, Sundays 10am to 4pm."),
        (
            "tomatoes",
            "How do I grow tomatoes on my balcony?",
            "Use a 20-litre pot, full sun and water daily.",
        ),
        ("delivery", "Do you deliver plants?", "Yes, within 15 km for a flat fee of 5 euros."),
        ("returns", "Can I return a plant that died?", "Within 30 days with the receipt, we replace it."),
    ]
    docs = [Document(id=i, title=q, text=a, kind="faq", question=q) for i, q, a in faq]
    index = KnowledgeIndex([minilm, use])
    index.replace(chunk_documents(docs))
    fixed = replace(index.config, adaptive=False)
    scores = sorted(index.search(p, config=fixed).confidence for p in NULL_PROBES)
    assert scores[-1] > 0.6  # the probe this shop answers
    null, threshold = index.thresholds()
    assert null < scores[-1] - 0.2 and threshold < 0.6
    assert index.search("are you open on sundays").answerable


def test_the_documented_threshold_defaults_are_the_codes() -> None:
    """docs/BOT.md states the null level's quantile and both margins as RetrievalConfig has them."""
    from pathlib import Path

    from parley.bots.knowledge import RetrievalConfig

    cfg = RetrievalConfig()
    doc = (Path(__file__).resolve().parents[3] / "docs" / "BOT.md").read_text(encoding="utf-8")
    doc = " ".join(doc.split())
    assert f"the {round(cfg.null_quantile * 100)}th percentile (`null_quantile`)" in doc
    assert f"the null level plus {cfg.probe_margin:.2f} (`probe_margin`)" in doc
    assert f"**null level** + {cfg.out_of_scope_margin:.2f} (`RetrievalConfig.out_of_scope_margin`)" in doc
    assert f"| -1: the knowledge base's null level + {cfg.out_of_scope_margin:.2f} |" in doc
    assert (
        f"between {cfg.min_answer_threshold:.2f} and `answer_threshold` ({cfg.answer_threshold:.2f})" in doc
    )
