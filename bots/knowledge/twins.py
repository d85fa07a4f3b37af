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

__all__ = ["MIN_SIMILARITY", "are_twins", "similarity"]

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


def are_twins(index: KnowledgeIndex, a: Chunk, b: Chunk, at: float = MIN_SIMILARITY) -> bool:
    """Whether ``a`` and ``b``, written in different languages, are one answer: close (≥ ``at``)
    and each the other's closest chunk in the other's language."""
    bodies = index.bodies()
    if bodies is None:
        return False
    chunks, mat = bodies
    row = {c.id: i for i, c in enumerate(chunks)}
    if a.id not in row or b.id not in row:
        return False
    # The language detected at parse time ("mixed" is Chinese with Latin names): cheap per chunk.
    english = np.array([c.lang == "en" for c in chunks])
    i, j = row[a.id], row[b.id]
    if english[i] == english[j] or float(mat[i] @ mat[j]) < at:
        return False
    closest = [int(np.argmax(np.where(english != english[k], mat @ mat[k], -np.inf))) for k in (i, j)]
    return closest == [j, i]
