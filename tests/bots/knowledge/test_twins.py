"""Translation twins (:mod:`parley.bots.knowledge.twins`) on a development set's real entries."""

from __future__ import annotations

from pathlib import Path

from parley.bots.knowledge import KnowledgeIndex, MultilingualUSEEmbedder, chunk_documents, load_directory
from parley.bots.knowledge.retrieval import BM25, RetrievalConfig
from parley.bots.knowledge.twins import MIN_SIMILARITY, similarity, twin_of

CAKES_KB = Path(__file__).resolve().parents[2] / "data" / "unseen" / "cakes" / "kb"


def test_a_neighbour_whose_translation_is_elsewhere_is_no_twin(use: MultilingualUSEEmbedder) -> None:
    """Session 18: the Chinese-only Shenzhen delivery entry is as close to the English delivery entry
    as a translation, but that entry's translation is the Chinese delivery entry; the bot quoted
    the Hong Kong delivery terms to "do u deliver in shenzhen?"."""
    index = KnowledgeIndex([use], RetrievalConfig(signals=(BM25, use.name)))
    index.replace(chunk_documents(load_directory(CAKES_KB)))
    by_id = {c.doc_id: c for c in index.chunks}
    en, zh, shenzhen = by_id["en.delivery"], by_id["zh.delivery"], by_id["zh.sz-delivery"]
    assert similarity(index, shenzhen, en) >= MIN_SIMILARITY, "the premise: close enough to pass as one"
    assert twin_of(index, en) == zh and twin_of(index, zh) == en
    assert twin_of(index, shenzhen) is None, "its closest English entry has a twin of its own"


def test_without_a_multilingual_model_nothing_is_a_twin(use: MultilingualUSEEmbedder) -> None:
    index = KnowledgeIndex([use], RetrievalConfig(signals=(BM25, use.name)))
    index.replace(chunk_documents(load_directory(CAKES_KB)))
    by_id = {c.doc_id: c for c in index.chunks}
    bare = KnowledgeIndex([], RetrievalConfig(signals=(BM25,)))
    bare.replace(index.chunks)
    assert similarity(bare, by_id["en.delivery"], by_id["zh.delivery"]) == 0.0
    assert twin_of(bare, by_id["en.delivery"]) is None
