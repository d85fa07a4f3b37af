"""Shared fixtures of the bot tests (``tests/bots/knowledge`` included): the real models,
loaded once per session (``import torch`` alone costs seconds), and the LLM stub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parley.bots.knowledge import KnowledgeIndex, MiniLMEmbedder, MultilingualUSEEmbedder
from parley.bots.knowledge.eval import KB_DIR, build_index
from tests.bots.llm_stub import LLMStub, running_stub


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


@pytest.fixture(scope="session")
def _stub_server() -> Iterator[LLMStub]:
    with running_stub() as stub:
        yield stub


@pytest.fixture
def stub(_stub_server: LLMStub) -> LLMStub:
    """The OpenAI-compatible stub on a free port, with an empty script and no recorded requests."""
    _stub_server.reset()
    return _stub_server
