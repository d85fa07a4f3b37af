from __future__ import annotations

import numpy as np
import pytest

from parley.bots.knowledge import Embedder, vector_from_bytes, vector_to_bytes


@pytest.fixture(params=["minilm", "use"])
def embedder(request) -> Embedder:
    return request.getfixturevalue(request.param)


def test_loads_offline_and_gives_unit_vectors(embedder: Embedder):
    assert isinstance(embedder, Embedder)
    v = embedder.encode(
        ["How long does delivery take?", "When will my parcel arrive?", "Do you sell laptops?"]
    )
    assert v.shape == (3, embedder.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert embedder.encode([]).shape == (0, embedder.dim)


def test_calibration_separates_paraphrase_from_unrelated(embedder: Embedder):
    v = embedder.encode(
        ["How do I reset my password?", "I forgot my password", "What's the weather tomorrow?"]
    )
    cal = embedder.calibration(np.array([v[0] @ v[1], v[0] @ v[2]]))
    assert cal[0] >= 0.5 > cal[1]


def test_use_aligns_chinese_and_english(use: Embedder):
    v = use.encode(["How do I reset my password?", "我忘记密码了怎么办", "今天天气怎么样"])
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2] + 0.3


def test_vectors_round_trip_as_float32_bytes(use: Embedder):
    v = use.encode(["退款多久到账"])[0]
    data = vector_to_bytes(v)
    assert len(data) == 4 * use.dim
    assert np.array_equal(vector_from_bytes(data, use.dim), v)
    with pytest.raises(ValueError):
        vector_from_bytes(data, 3)


def test_a_cached_embedder_is_an_embedder_and_gives_the_same_vectors(use: Embedder) -> None:
    from parley.bots.knowledge import CachedEmbedder

    cached = CachedEmbedder(use, max_texts=2)
    assert isinstance(cached, Embedder) and cached.name == use.name and cached.dim == use.dim
    texts = ["How long does delivery take?", "怎么退货", "How long does delivery take?"]
    assert np.allclose(cached.encode(texts), use.encode(texts), atol=1e-6)
    assert cached.encode([]).shape == (0, use.dim)


class _Counting:
    """A fake model that counts the texts it is asked to embed."""

    name, dim, multilingual = "counting", 2, False

    def __init__(self) -> None:
        from parley.bots.knowledge import Calibration

        self.calibration = Calibration(0.0, 0.5, 1.0)
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32).reshape(-1, 2)


def test_the_cache_embeds_each_recent_text_once_and_forgets_the_oldest() -> None:
    from parley.bots.knowledge import CachedEmbedder

    inner = _Counting()
    cached = CachedEmbedder(inner, max_texts=2)
    cached.encode(["a", "bb", "a"])
    cached.encode(["bb", "a"])
    assert inner.seen == ["a", "bb"], "a repeated text, within one call or across calls, is embedded once"
    cached.encode(["ccc"])  # evicts the least recently used: "bb" was used before "a"
    cached.encode(["a", "bb"])
    assert inner.seen == ["a", "bb", "ccc", "bb"]
    assert cached.encode(["ccc", "a"])[:, 0].tolist() == [3.0, 1.0]


def test_use_reads_traditional_and_simplified_as_one_script(use: Embedder) -> None:
    """Session 16: a Traditional question meets a Simplified entry (and the reverse) as the same text."""
    trad, simp = use.encode(["運費怎麼計算？", "运费怎么计算？"])
    # The same text embedded at two positions of one batch may differ in the last float bits.
    assert np.allclose(trad, simp, atol=1e-6)
