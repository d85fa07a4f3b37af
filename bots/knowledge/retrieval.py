"""Per-app knowledge index: fused lexical + dense retrieval with a calibrated confidence.

How a query is scored (each step measured in ``docs/BOT_QUALITY.md``):

0. Misspelt English words are repaired towards the knowledge base's own words (:mod:`.spelling`:
   "cancle my membrship" → "cancel my membership"); brands, loan words and Chinese stay as typed.
1. Every signal scores every chunk: BM25 (normalised, 0..1) and the cosine of each
   embedder, taking the best of the fields — the short ``head`` (FAQ question or
   section heading), the ``body`` (head + text) and, for a chunk translated at ingest,
   ``alt`` (the translation; BM25 keeps a second index over translations).
2. Each raw score goes through its model's :class:`~.embedders.Calibration`, so 0.5 means
   "probably the right answer" for every signal alike.
3. Routing: a signal only votes where it can see.  An English-only model (MiniLM) is
   skipped for Chinese queries and Chinese chunks; BM25 is skipped when query and chunk
   share no script.  A translated chunk is readable in both languages: the English-only
   model and BM25 read its ``alt`` field where they cannot read the original.  Otherwise a Chinese-only answer to an English question would be
   outvoted by zeros from signals that cannot read it.  With the ``gloss`` view (off by
   default), BM25 also reads each untranslated chunk's dictionary gloss (:mod:`.gloss`: its
   words looked up in the other language; for scoring only, never shown) for a query in the
   gloss's language: the ``gloss`` signal, which only lifts a chunk (:func:`.fusion.weighted`).
4. Fusion: the weighted mean of the voting signals (``"weighted"``, the default); the same
   but BM25 can only lift a chunk above the dense mean, never pull it below (``"boost"``);
   or reciprocal-rank fusion for the order with the boosted mean as confidence (``"rrf"``).
   For a long message with a separate question (:mod:`.focus`), each chunk's fused relevance is
   averaged with its relevance to the asking sentences alone (``Hit.signals`` stay the whole
   message's).
5. The best chunk per document is kept; the top hit's fused score is the confidence, and
   ``answerable`` is confidence >= the answer threshold.  With ``adaptive`` (the default) the
   threshold is calibrated per knowledge base: the index scores fixed unrelated questions
   (:mod:`.probes`) against itself, and the 95th percentile of their confidences is the app's
   *null level* (the maximum let one probe the KB happens to answer set it alone); the
   threshold is that plus ``probe_margin``, within ``min_answer_threshold`` and
   ``answer_threshold`` (0.30, a cap; the fixed threshold when ``adaptive`` is off).  One global
   constant did not carry over to a new business (docs/BOT_QUALITY.md).
6. With a learned :class:`~.rerank.Reranker` (``rerank``, the bot's default), the top hits are
   put in the model's order; the confidence stays the fused score of the best hit.  With an
   :class:`~.gate.AnswerGate` too (``gate``; adaptive only), ``answerable`` is its P(the first
   hit is right) >= ``answer_probability`` instead (``SearchResult.probability``).

The index is an immutable snapshot swapped atomically on every change, so searches run
while an app's knowledge base is re-ingested, without a restart and without locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .chunking import Chunk
from .embedders import Calibration, Embedder, vector_from_bytes, vector_to_bytes
from .focus import asking_part, without_disclaimer
from .fusion import BM25, GLOSS, Floats, Standing, rrf_order, weighted
from .gate import AnswerGate
from .gloss import Glossary, shared_glossary
from .langs import detect_lang
from .lexical import BM25Index
from .probes import NULL_PROBES
from .rerank import Reranker
from .results import Hit, SearchResult
from .spelling import QuerySpeller

__all__ = ["BM25", "GLOSS", "ChunkVector", "Hit", "KnowledgeIndex", "RetrievalConfig", "SearchResult"]

_BM25_CALIBRATION = Calibration(floor=0.0, threshold=0.30, ceiling=0.70)
_VIEWS = ("head", "body")
#: The view holding a chunk's translation (only chunks that have one are embedded under it).
ALT = "alt"


@dataclass(frozen=True, slots=True)
class ChunkVector:
    """One stored embedding: chunk ``view`` (``"head"`` or ``"body"``) under ``model``, float32 bytes."""

    chunk_id: str
    model: str
    view: str
    vector: bytes


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """Which signals to use and how to fuse them (defaults: the best measured configuration)."""

    signals: tuple[str, ...] = (BM25, "all-MiniLM-L6-v2", "use-multilingual-v3")
    weights: Mapping[str, float] = field(
        default_factory=lambda: {BM25: 1.0, "all-MiniLM-L6-v2": 1.0, "use-multilingual-v3": 1.0}
    )
    views: tuple[str, ...] = (*_VIEWS, ALT)
    routing: bool = True
    fusion: Literal["weighted", "boost", "rrf"] = "weighted"
    answer_threshold: float = 0.30
    top_k: int = 5
    #: Calibrate the threshold from the knowledge base's scores of unrelated questions.
    adaptive: bool = True
    probe_margin: float = 0.10
    min_answer_threshold: float = 0.15
    #: The null level is this quantile of the probes' confidences (1.0: their maximum, which one
    #: probe the knowledge base happens to answer sets alone).
    null_quantile: float = 0.95
    #: Without an LLM, a request below null level + this is out of scope (handed over).
    out_of_scope_margin: float = 0.05
    #: Repair misspelt English query words towards the knowledge base's words (:mod:`.spelling`).
    spelling: bool = True
    #: Average each chunk's relevance to a long message with its relevance to the message's
    #: asking sentences (:mod:`.focus`; weighted and boost fusion).
    focus: bool = True
    #: Reorder the top hits with the index's learned :class:`~.rerank.Reranker`, when it has one.
    rerank: bool = True
    #: Decide ``answerable`` with the index's learned :class:`~.gate.AnswerGate` (with a reranker).
    gate: bool = True
    #: The gate's probability from which the first hit is answerable (chosen leave one set out).
    answer_probability: float = 0.30


@dataclass(frozen=True, slots=True)
class _Snapshot:
    chunks: tuple[Chunk, ...]
    langs: npt.NDArray[np.str_]
    bm25: BM25Index
    matrices: dict[tuple[str, str], npt.NDArray[np.float32]]
    #: Language of each chunk's translation (``""``: none) and BM25 over the translations.
    alt_langs: npt.NDArray[np.str_]
    bm25_alt: BM25Index
    #: Language of each chunk's dictionary gloss (``""``: none) and BM25 over the glosses.
    gloss_langs: npt.NDArray[np.str_]
    bm25_gloss: BM25Index
    speller: QuerySpeller
    #: The best confidence of the null probes, per retrieval configuration (computed on first use).
    null: dict[str, float] = field(default_factory=dict)


class KnowledgeIndex:
    """The in-memory search index of one app.

    Feed it chunks plus, when loaded from a store, their stored vectors (missing ones are
    computed with the embedders).  Use :meth:`embed` to get vectors for storing.
    """

    def __init__(
        self,
        embedders: Sequence[Embedder],
        config: RetrievalConfig | None = None,
        glossary: Glossary | None = None,
        reranker: Reranker | None = None,
        gate: AnswerGate | None = None,
    ) -> None:
        self.embedders = {e.name: e for e in embedders}
        #: The learned reorder of the top hits (:mod:`.rerank`; ``None``: the fused order).
        self.reranker = reranker
        #: The learned answer gate (:mod:`.gate`; ``None``, or no reranker: the threshold decides).
        self.gate = gate
        #: Glosses are built when ``config.views`` has ``gloss`` (default: the process's dictionary).
        self._glossary = glossary
        #: The null probes' query vectors per model, encoded once in one batch.
        self._probes: dict[str, npt.NDArray[np.float32]] = {}
        self.config = config or RetrievalConfig()
        self._snap = self._build((), {})

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        """The chunks currently searchable."""
        return self._snap.chunks

    def embed(self, chunks: Sequence[Chunk]) -> list[ChunkVector]:
        """Embed every view of ``chunks`` with every embedder, serialised for a store."""
        out: list[ChunkVector] = []
        for name, emb in self.embedders.items():
            for view in (*_VIEWS, ALT):
                some = [c for c in chunks if view in c.views()]
                vecs = emb.encode([c.views()[view] for c in some])
                out.extend(
                    ChunkVector(c.id, name, view, vector_to_bytes(v)) for c, v in zip(some, vecs, strict=True)
                )
        return out

    def replace(self, chunks: Iterable[Chunk], vectors: Iterable[ChunkVector] = ()) -> None:
        """Make ``chunks`` the whole content of the index."""
        self._snap = self._build(tuple(chunks), _vector_map(vectors))

    def upsert(self, chunks: Iterable[Chunk], vectors: Iterable[ChunkVector] = ()) -> None:
        """Add ``chunks``, replacing every existing chunk of the same documents (re-ingest)."""
        new = tuple(chunks)
        docs = {c.doc_id for c in new}
        self._rebuild_with([c for c in self._snap.chunks if c.doc_id not in docs] + list(new), vectors)

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Drop every chunk of the given documents."""
        gone = set(doc_ids)
        self._rebuild_with([c for c in self._snap.chunks if c.doc_id not in gone], ())

    def _rebuild_with(self, chunks: list[Chunk], vectors: Iterable[ChunkVector]) -> None:
        snap = self._snap
        known = _vector_map(vectors)
        # Reuse the vectors of chunks that stay unchanged, so an update embeds only what is new
        # (a chunk re-ingested with other text or a new translation is embedded again).
        row = {c.id: i for i, c in enumerate(snap.chunks)}
        for (model, view), mat in snap.matrices.items():
            for c in chunks:
                same = c.id in row and snap.chunks[row[c.id]] == c
                if same and view in c.views() and (c.id, model, view) not in known:
                    known[(c.id, model, view)] = mat[row[c.id]]
        self._snap = self._build(tuple(chunks), known)

    def _build(self, chunks: tuple[Chunk, ...], known: dict[tuple[str, str, str], Any]) -> _Snapshot:
        matrices: dict[tuple[str, str], npt.NDArray[np.float32]] = {}
        for name, emb in self.embedders.items():
            for view in (*_VIEWS, ALT):
                missing = [c for c in chunks if view in c.views() and (c.id, name, view) not in known]
                if missing:
                    vecs = emb.encode([c.views()[view] for c in missing])
                    known.update({(c.id, name, view): v for c, v in zip(missing, vecs, strict=True)})
                # Untranslated chunks get a zero row under ``alt``: never read (see _signals).
                zero = np.zeros(emb.dim, dtype=np.float32)
                rows = [known.get((c.id, name, view), zero) if view == ALT else known[(c.id, name, view)]
                        for c in chunks]  # fmt: skip
                matrices[(name, view)] = (
                    np.vstack(rows).astype(np.float32) if rows else np.zeros((0, emb.dim), dtype=np.float32)
                )
        langs = np.array([c.lang for c in chunks], dtype=np.str_)
        alt_langs = np.array(
            [detect_lang(c.translation) if c.translation else "" for c in chunks], dtype=np.str_
        )
        # A translated chunk needs no gloss: its translation is read instead (and is better).
        glossary = (self._glossary or shared_glossary()) if GLOSS in self.config.views else None
        glosses = [
            glossary.gloss(c.views()["body"]) if glossary is not None and not c.translation else ""
            for c in chunks
        ]
        return _Snapshot(
            chunks,
            langs,
            BM25Index([c.views()["body"] for c in chunks]),
            matrices,
            alt_langs,
            BM25Index([c.translation for c in chunks]),
            np.array([detect_lang(g) if g else "" for g in glosses], dtype=np.str_),
            BM25Index(glosses, chars=False),  # gloss words are dictionary words: no characters
            QuerySpeller.from_texts(t for c in chunks for t in (c.views()["body"], c.translation)),
        )

    def null_level(self, config: RetrievalConfig | None = None) -> float:
        """A high quantile (``null_quantile``) of the confidences unrelated probe questions
        (:mod:`.probes`) reach here."""
        cfg = replace(config or self.config, adaptive=False)
        snap = self._snap
        if not snap.chunks:
            return 0.0
        key = _null_key(cfg)
        if key not in snap.null:  # computed once per snapshot (an ingest makes a new one)
            for name in set(self.embedders) - set(self._probes):
                self._probes[name] = self.embedders[name].encode(list(NULL_PROBES))
            conf = [
                self._search(snap, p, cfg, {n: v[i] for n, v in self._probes.items()}).confidence
                for i, p in enumerate(NULL_PROBES)
            ]
            snap.null[key] = float(np.quantile(conf, cfg.null_quantile))
        return snap.null[key]

    def bodies(self) -> tuple[tuple[Chunk, ...], npt.NDArray[np.float32]] | None:
        """The indexed chunks and their bodies' unit vectors under the multilingual model, row for
        row (``None`` without that model): what :mod:`.twins` compares."""
        snap = self._snap
        name = next((n for n, e in self.embedders.items() if e.multilingual), None)
        if name is None or (name, "body") not in snap.matrices:
            return None
        return snap.chunks, snap.matrices[(name, "body")]

    @property
    def calibrated(self) -> bool:
        """True when a search needs no null-level calibration first (:meth:`thresholds` ran on this
        snapshot, or there is nothing to calibrate): a bot calibrates when it loads a knowledge base."""
        cfg = self.config
        return not cfg.adaptive or not self._snap.chunks or _null_key(cfg) in self._snap.null

    def thresholds(self, config: RetrievalConfig | None = None) -> tuple[float, float]:
        """``(null level, answer threshold)`` for this knowledge base (module docstring, step 5);
        without ``adaptive``: ``(0, answer_threshold)``."""
        cfg = config or self.config
        if not cfg.adaptive:
            return 0.0, cfg.answer_threshold
        null = self.null_level(cfg)
        lo = min(cfg.min_answer_threshold, cfg.answer_threshold)
        return null, min(max(null + cfg.probe_margin, lo), cfg.answer_threshold)

    def search(self, query: str, *, config: RetrievalConfig | None = None) -> SearchResult:
        """Rank the chunks for ``query``; see the module docstring for how."""
        cfg = config or self.config
        snap = self._snap
        fused = self._search(snap, query, cfg)
        if not (cfg.rerank and self.reranker is not None and fused.hits):
            return self._thresholded(fused, cfg)
        logits = self.reranker.hit_logits(fused)
        result = self.reranker.reorder(fused, logits)
        if not (cfg.gate and self.gate is not None and cfg.adaptive):
            return self._thresholded(result, cfg)
        p = self.gate.probability(fused, logits, *self.thresholds(cfg))
        return replace(result, answerable=p >= cfg.answer_probability, probability=p)

    def _thresholded(self, result: SearchResult, cfg: RetrievalConfig) -> SearchResult:
        if not cfg.adaptive or not result.hits or cfg.answer_threshold <= 0.0:
            return result
        return replace(result, answerable=result.confidence >= self.thresholds(cfg)[1])

    def _search(
        self, snap: _Snapshot, query: str, cfg: RetrievalConfig, qvecs: Mapping[str, Any] | None = None
    ) -> SearchResult:
        lang = detect_lang(query)
        if not snap.chunks or not query.strip():
            return SearchResult(query, lang, [], 0.0, False)
        # The probes (``qvecs`` given) are spelt right, short, and embedded once for every configuration.
        text = snap.speller.correct(query) if cfg.spelling and not qvecs else query
        # A disclaimer's words (complaint, person, 投诉) belong to other entries: it is left out.
        text = without_disclaimer(text) if cfg.focus and not qvecs else text
        scores, votes, cosines = self._signals(snap, text, lang, cfg, qvecs or {})
        boost = cfg.fusion != "weighted"
        fused = weighted(scores, votes, cfg.weights, boost=boost)
        part = asking_part(text) if cfg.focus and not qvecs and cfg.fusion != "rrf" else None
        if part is not None:
            asked, asked_votes, _ = self._signals(snap, part, detect_lang(part), cfg, {})
            fused = (fused + weighted(asked, asked_votes, cfg.weights, boost=boost)) / 2
        rrf = cfg.fusion == "rrf"
        order = rrf_order(scores, votes, cfg.weights) if rrf else np.argsort(-fused, kind="stable")
        # Only the reorder reads a hit's standing (from raw cosines); not the probes or the baseline.
        stand = Standing({**scores, **cosines}, votes) if cfg.rerank and not qvecs else None
        hits: list[Hit] = []
        seen: set[str] = set()
        for i in order:
            chunk = snap.chunks[int(i)]
            if chunk.doc_id in seen:
                continue
            seen.add(chunk.doc_id)
            sig = {n: round(float(s[i]), 4) for n, s in scores.items() if votes[n][i]}
            hits.append(Hit(chunk, float(fused[i]), sig, stand.of(int(i)) if stand else {}))
            if len(hits) >= cfg.top_k:
                break
        confidence = hits[0].score if hits else 0.0
        return SearchResult(query, lang, hits, confidence, confidence >= cfg.answer_threshold)

    def _signals(
        self, snap: _Snapshot, query: str, lang: str, cfg: RetrievalConfig, qvecs: Mapping[str, Any]
    ) -> tuple[dict[str, Floats], dict[str, npt.NDArray[np.bool_]], dict[str, Floats]]:
        """Each signal's calibrated scores and which chunks it can read; the dense models' raw cosines."""
        n = len(snap.chunks)
        everywhere = np.ones(n, dtype=bool)
        scores: dict[str, Floats] = {}
        votes: dict[str, npt.NDArray[np.bool_]] = {}
        cosines: dict[str, Floats] = {}
        has_alt = (snap.alt_langs != "") & (ALT in cfg.views)
        for name in cfg.signals:
            if name == BM25:
                # BM25 only sees shared words: across scripts its zero means "cannot tell".
                same = (snap.langs == lang) | (snap.langs == "mixed") | (lang == "mixed")
                same_alt = has_alt & (
                    (snap.alt_langs == lang) | (snap.alt_langs == "mixed") | (lang == "mixed")
                )
                if not cfg.routing:
                    same = same_alt = everywhere
                raw = _BM25_CALIBRATION(snap.bm25.scores(query))
                alt = _BM25_CALIBRATION(snap.bm25_alt.scores(query)) if has_alt.any() else np.zeros(n)
                scores[name] = np.maximum(np.where(same, raw, 0.0), np.where(same_alt, alt, 0.0))
                votes[name] = same | same_alt
                continue
            emb = self.embedders[name]
            q = qvecs[name] if name in qvecs else emb.encode([query])[0]
            sims = np.max([snap.matrices[(name, v)] @ q for v in cfg.views if v in _VIEWS], axis=0)
            alt_sims = np.where(has_alt, snap.matrices[(name, ALT)] @ q, -1.0) if n else sims
            readable, readable_alt = everywhere, has_alt
            if cfg.routing and not emb.multilingual:
                # English-only: the original where it is not Chinese, the translation where that is not.
                ok = lang != "zh"
                readable = (snap.langs != "zh") & ok
                readable_alt = has_alt & (snap.alt_langs != "zh") & ok
            best = np.maximum(np.where(readable, sims, -1.0), np.where(readable_alt, alt_sims, -1.0))
            scores[name], cosines[name] = emb.calibration(best), best.astype(np.float64)
            votes[name] = readable | readable_alt
        if GLOSS in cfg.views and (snap.gloss_langs != "").any():
            ok = (snap.gloss_langs != "") & ((snap.gloss_langs == lang) | (lang == "mixed"))
            scores[GLOSS] = np.where(ok, _BM25_CALIBRATION(snap.bm25_gloss.scores(query)), 0.0)
            votes[GLOSS] = ok
        return scores, votes, cosines


def _null_key(config: RetrievalConfig) -> str:
    """The snapshot's null-level cache key: each configuration scores differently (the baseline
    is USE alone); ``adaptive`` does not change the probes' scores."""
    return repr(replace(config, adaptive=False))


def _vector_map(vectors: Iterable[ChunkVector]) -> dict[tuple[str, str, str], Any]:
    return {(v.chunk_id, v.model, v.view): vector_from_bytes(v.vector) for v in vectors}


def with_signals(config: RetrievalConfig, *signals: str, **changes: Any) -> RetrievalConfig:
    """A copy of ``config`` using only ``signals`` (plus any other field ``changes``)."""
    return replace(config, signals=signals, **changes)
