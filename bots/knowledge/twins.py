"""Translation twins: one answer written in two languages.

A knowledge base often answers the same question in English and in Chinese, and the bot then
quotes the entry in the customer's language (:meth:`parley.bots.answer.Answerer._best`).  Close
bodies alone do not make two entries one answer: a Chinese-only entry on delivery to Shenzhen
sits as close to the English delivery entry (0.62 under the multilingual model) as most
translations do, while that English entry's own translation is the Chinese delivery entry.
Twins are therefore each other's closest body in the other language (mutual nearest neighbours)
*and* close (:data:`MIN_SIMILARITY`).  On the 33 development sets of session 18, 253 of the 254
labelled twin pairs (``en.x`` / ``zh.x``) are mutual nearest neighbours; of the pairs of different
entries at 0.56 or more, 110 in all, 12 are.
"""

from __future__ import annotations

import numpy as np

from .chunking import Chunk
from .retrieval import KnowledgeIndex

__all__ = ["MIN_SIMILARITY", "similarity", "twin_of"]

#: Body similarity from which two entries may be one answer (dev sets: translations from 0.46,
#: all but five at 0.56 or more; other entries up to 0.67).
MIN_SIMILARITY = 0.56


def similarity(index: KnowledgeIndex, a: Chunk, b: Chunk) -> float:
    """Cosine of two indexed chunks' bodies under the multilingual model (0 without one)."""
    bodies = index.bodies()
    if bodies is None:
        return 0.0
    rows = {c.id: i for i, c in enumerate(bodies[0]) if c.id in (a.id, b.id)}
    return float(bodies[1][rows[a.id]] @ bodies[1][rows[b.id]]) if len(rows) == 2 else 0.0


def twin_of(index: KnowledgeIndex, chunk: Chunk, at: float = MIN_SIMILARITY) -> Chunk | None:
    """The chunk that says ``chunk`` in the other language: its closest body there, when that is
    close (≥ ``at``) and has ``chunk`` as its own closest in turn; ``None`` otherwise."""
    bodies = index.bodies()
    if bodies is None:
        return None
    chunks, mat = bodies
    i = next((k for k, c in enumerate(chunks) if c.id == chunk.id), None)
    if i is None:
        return None
    # The language detected at parse time ("mixed" is Chinese with Latin names): cheap per chunk.
    english = np.array([c.lang == "en" for c in chunks])

    def closest(k: int) -> int:
        return int(np.argmax(np.where(english != english[k], mat @ mat[k], -np.inf)))

    j = closest(i)
    if english[j] == english[i] or float(mat[i] @ mat[j]) < at or closest(j) != i:
        return None
    return chunks[j]
