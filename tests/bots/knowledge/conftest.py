"""Real models, loaded once per test session (import torch alone costs seconds)."""

from __future__ import annotations

import pytest

from parley.bots.knowledge import KnowledgeIndex, MiniLMEmbedder, MultilingualUSEEmbedder
from parley.bots.knowledge.eval import KB_DIR, build_index


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def use() -> MultilingualUSEEmbedder:
    return MultilingualUSEEmbedder()


@pytest.fixture(scope="session")
def kb_index(minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder) -> KnowledgeIndex:
    """The example knowledge base, indexed with both embedders (shared: do not mutate)."""
    return build_index([minilm, use], KB_DIR)
