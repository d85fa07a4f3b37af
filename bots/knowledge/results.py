"""What a search returns: ranked hits and the decision they support (shared by the index and
the learned reorder, :mod:`.rerank`, without either importing the other's internals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .chunking import Chunk

__all__ = ["Hit", "SearchResult"]


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk; ``score`` is the fused 0..1 relevance, ``signals`` the calibrated inputs,
    ``standing`` where those inputs place it among all chunks of the knowledge base
    (:class:`.fusion.Standing`)."""

    chunk: Chunk
    score: float
    signals: dict[str, float]
    standing: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked hits (best chunk per document) and the decision they support."""

    query: str
    lang: str
    hits: list[Hit]
    confidence: float
    answerable: bool
    #: The learned answer gate's P(the first hit answers the query) (:mod:`.gate`; ``None``: no gate).
    probability: float | None = None

    @property
    def best(self) -> Hit | None:
        """The top hit, if any."""
        return self.hits[0] if self.hits else None
