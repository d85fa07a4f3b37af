"""Split documents into overlapping chunks for retrieval.

Chunks are measured in characters (a Chinese character carries about as much as a short
English word, so characters are a fair common unit for both).  A chunk ends at a sentence
boundary when one lies in its last third, and the next chunk starts ``overlap`` characters
earlier, again snapped to a sentence start when possible, so a fact cut in two still sits
whole in one chunk.  FAQ entries are never split: the answer belongs to its question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .documents import Document

__all__ = ["Chunk", "chunk_document", "chunk_documents"]

_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;\n])\s*")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A searchable piece of a document.

    ``id`` is ``<doc_id>::<n>``; ``start`` is the character offset of ``text`` in the
    document body.  ``question`` and ``title`` come from the document and are indexed
    as separate fields.
    """

    id: str
    doc_id: str
    title: str
    text: str
    kind: str
    lang: str
    question: str = ""
    start: int = 0
    #: The file (knowledge source) the chunk came from, shown to agents with citations.
    source: str = ""
    #: The head and text in the other language (``""``: none), made at ingest by an LLM
    #: (:mod:`parley.bots.translate`): lets English-only signals read a Chinese entry and back.
    translation: str = ""

    def views(self) -> dict[str, str]:
        """The texts embedded for this chunk: a short ``head`` (question or heading), the ``body``
        and, when there is a translation, ``alt`` (it)."""
        head = self.question or self.title
        out = {"head": head, "body": f"{head}\n{self.text}" if head else self.text}
        if self.translation:
            out["alt"] = self.translation
        return out


def _boundaries(text: str) -> list[int]:
    return sorted({m.end() for m in _SENTENCE_END.finditer(text)} | {len(text)})


def _word_edge(text: str, pos: int, floor: int) -> int:
    """The last whitespace at or before ``pos`` (not before ``floor``), so English words stay whole."""
    cut = text.rfind(" ", max(floor, 0), pos + 1)
    return cut + 1 if cut > 0 else pos


def _split(text: str, size: int, overlap: int) -> list[tuple[int, str]]:
    if len(text) <= size:
        return [(0, text)]
    bounds = _boundaries(text)
    out: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        limit = start + size
        if limit >= len(text):
            out.append((start, text[start:]))
            break
        # Prefer the last sentence end in the final third of the window.
        ends = [b for b in bounds if start + size * 2 // 3 <= b <= limit]
        end = ends[-1] if ends else _word_edge(text, limit, start + size // 2)
        out.append((start, text[start:end]))
        nxt = end - overlap
        starts = [b for b in bounds if nxt <= b < end]
        nxt = starts[0] if starts else _word_edge(text, nxt, nxt - overlap // 2)
        start = max(nxt, start + 1)
    return [(s, t.strip()) for s, t in out if t.strip()]


def chunk_document(doc: Document, *, size: int = 500, overlap: int = 100) -> list[Chunk]:
    """Chunks of at most ``size`` characters, consecutive chunks sharing about ``overlap``."""
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    pieces = [(0, doc.text)] if doc.kind == "faq" else _split(doc.text, size, overlap)
    return [
        Chunk(
            id=f"{doc.id}::{n}",
            doc_id=doc.id,
            title=doc.title,
            text=text,
            kind=doc.kind,
            lang=doc.lang,
            question=doc.question,
            start=start,
            source=doc.source,
        )
        for n, (start, text) in enumerate(pieces)
    ]


def chunk_documents(docs: Iterable[Document], *, size: int = 500, overlap: int = 100) -> list[Chunk]:
    """:func:`chunk_document` over many documents, in order."""
    return [c for d in docs for c in chunk_document(d, size=size, overlap=overlap)]
