"""Knowledge-base retrieval for the support bot: parse, chunk, embed, search, decide.

Typical use (one index per app, rebuilt or updated when its knowledge base changes)::

    index = KnowledgeIndex([MiniLMEmbedder(), MultilingualUSEEmbedder()])
    index.replace(chunk_documents(load_directory(path)))
    result = index.search("退款多久到账")
    if result.answerable: ...  # else hand over to a human

Store adapters persist :class:`Chunk` rows and :class:`ChunkVector` (float32 bytes from
:meth:`KnowledgeIndex.embed`) and pass both back to :meth:`KnowledgeIndex.replace` on load.
"""

from .chunking import Chunk, chunk_document, chunk_documents
from .documents import Document, KnowledgeFormatError, load_directory, load_file, parse_bytes
from .embedders import (
    CachedEmbedder,
    Calibration,
    Embedder,
    MiniLMEmbedder,
    MultilingualUSEEmbedder,
    vector_from_bytes,
    vector_to_bytes,
)
from .handoff import HandoffDecision, HandoffDetector
from .langs import detect_lang
from .retrieval import ChunkVector, Hit, KnowledgeIndex, RetrievalConfig, SearchResult

__all__ = [
    "CachedEmbedder",
    "Calibration",
    "Chunk",
    "ChunkVector",
    "Document",
    "Embedder",
    "HandoffDecision",
    "HandoffDetector",
    "Hit",
    "KnowledgeFormatError",
    "KnowledgeIndex",
    "MiniLMEmbedder",
    "MultilingualUSEEmbedder",
    "RetrievalConfig",
    "SearchResult",
    "chunk_document",
    "chunk_documents",
    "detect_lang",
    "load_directory",
    "load_file",
    "parse_bytes",
    "vector_from_bytes",
    "vector_to_bytes",
]
