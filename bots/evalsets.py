"""Score the bot on evaluation sets from businesses it was never tuned on (``tests/data/unseen``).

Each set is a folder (see ``tests/data/unseen/README.md``): the business's knowledge base,
labelled customer messages and tag messages.  Every message is treated as the first message
of a new support conversation and goes through what :class:`~.runner.SupportBot` does with it
(:class:`~.triage.Triage`, then :class:`~.answer.Answerer` without an LLM): the outcome is an
answer citing one entry, a "could you rephrase" (low confidence) or a hand-over.

Next to it, in the same run, a no-tuning **baseline**: plain multilingual USE over the entry
text, top-1, no threshold (it answers everything, so it never hands over).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from parley.bots.answer import Answer, Answerer
from parley.bots.config import BotConfig
from parley.bots.knowledge import (
    Chunk,
    KnowledgeIndex,
    RetrievalConfig,
    SearchResult,
    chunk_documents,
    load_directory,
)
from parley.bots.knowledge.embedders import Embedder
from parley.bots.knowledge.eval import Ratio
from parley.bots.knowledge.gate import AnswerGate, shipped_gate
from parley.bots.knowledge.rerank import Reranker, shipped_reranker
from parley.bots.sentiment import SentimentScorer, bot_scorer
from parley.bots.tags import InterestTagger, load_tag_definitions
from parley.bots.triage import Triage

__all__ = [
    "BASELINE",
    "UNSEEN_DIR",
    "EvalSet",
    "Outcome",
    "kb_chunks",
    "load_set",
    "load_sets",
    "load_translations",
    "only_holdouts",
    "retrieval_metrics",
    "run_messages",
    "tag_metrics",
    "with_translations",
]

UNSEEN_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "unseen"
USE_NAME = "use-multilingual-v3"
#: The no-tuning baseline: multilingual USE on the entry text, top-1, no threshold.
BASELINE = RetrievalConfig(
    signals=(USE_NAME,),
    weights={USE_NAME: 1.0},
    views=("body",),
    routing=False,
    answer_threshold=0.0,
    spelling=False,
    focus=False,
    rerank=False,
)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@dataclass(frozen=True)
class EvalSet:
    """One business: its knowledge base folder, messages, tag definitions and tag messages."""

    name: str
    business: str
    topics: str
    holdout: bool
    kb: Path
    messages: list[dict[str, Any]]
    tags_file: Path
    tag_messages: list[dict[str, Any]]
    #: Optional ``translations.jsonl`` (entry id → its text in the other language): written by
    #: hand, standing in for what ``ingest --translate`` asks an LLM for (a ceiling, not a model).
    #: :func:`with_translations` swaps in another file, e.g. a model's per-chunk translations.
    translations: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        """The set's folder (``kb/``'s parent)."""
        return self.kb.parent


def load_translations(path: Path) -> dict[str, str]:
    """A translations file as key → translation; ``{}`` when there is no file.

    A row keys its translation by ``chunk`` (a chunk id, ``<entry>::<n>``: what ``ingest
    --translate`` makes, one translation per chunk — ``loadtests.translate_sets`` writes these) or
    by ``id`` (an entry id: the hand-written files, one translation for every chunk of the entry).
    """
    if not path.is_file():
        return {}
    return {str(r.get("chunk") or r["id"]): str(r["translation"]) for r in _jsonl(path)}


def with_translations(s: EvalSet, name: str) -> EvalSet:
    """``s`` with its translations read from ``<set>/<name>`` instead (none if it has no such file)."""
    return replace(s, translations=load_translations(s.folder / name))


def load_set(folder: Path) -> EvalSet:
    """Read one set folder (``set.json``, ``kb/``, ``messages.jsonl``, ``tags.json``, ``tags_eval.jsonl``)."""
    meta = json.loads((folder / "set.json").read_text(encoding="utf-8"))
    return EvalSet(
        name=str(meta["name"]),
        business=str(meta["business"]),
        topics=str(meta["topics"]),
        holdout=bool(meta.get("holdout", False)),
        kb=folder / "kb",
        messages=_jsonl(folder / "messages.jsonl"),
        tags_file=folder / "tags.json",
        tag_messages=_jsonl(folder / "tags_eval.jsonl"),
        translations=load_translations(folder / "translations.jsonl"),
    )


def load_sets(root: Path = UNSEEN_DIR) -> list[EvalSet]:
    """Every set under ``root``, development sets first, the holdout last."""
    sets = [load_set(p) for p in sorted(root.iterdir()) if (p / "set.json").is_file()]
    return sorted(sets, key=lambda s: s.holdout)


def only_holdouts(sets: Sequence[EvalSet], names: Iterable[str]) -> list[EvalSet]:
    """The development sets and the holdouts in ``names``; the other holdouts stay unseen.

    Raises ``ValueError`` for a name that is not a holdout, so a typo cannot score nothing.
    """
    named = set(names)
    unknown = named - {s.name for s in sets if s.holdout}
    if unknown:
        raise ValueError(f"no holdout set named {', '.join(sorted(unknown))}")
    return [s for s in sets if not s.holdout or s.name in named]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the bot did with one message: ``answer`` (citing ``doc``), ``rephrase`` or ``handoff``."""

    row: dict[str, Any]
    action: str
    doc: str
    confidence: float
    reason: str
    foreign_notice: bool
    baseline_doc: str
    #: The sentiment label the bot gave the message (``negative``, ``neutral``, ``positive``).
    mood: str = ""
    #: The bot's own best entry, before any threshold or hand-over rule: what its retrieval ranks
    #: first, comparable with ``baseline_doc`` (which never declines or hands over).
    ranked_doc: str = ""

    @property
    def right(self) -> bool:
        """An answer from one of the labelled entries."""
        return self.action == "answer" and self.doc in self.row["answers"]

    @property
    def baseline_right(self) -> bool:
        """Plain multilingual USE's top entry is one of the labelled entries."""
        return self.baseline_doc in self.row["answers"]


def kb_chunks(kb: Path) -> list[Chunk]:
    """The chunks ``python -m parley.bots ingest`` stores for the folder ``kb`` (recursively; the
    same parser and the same chunking with the same defaults as :func:`~.ingest.ingest_files`)."""
    return chunk_documents(load_directory(kb))


def build_index(
    embedders: Sequence[Embedder],
    kb: Path,
    config: RetrievalConfig | None = None,
    translations: Mapping[str, str] | None = None,
    reranker: Reranker | None = None,
    gate: AnswerGate | None = None,
) -> KnowledgeIndex:
    """An index over one set's knowledge base (its folder, recursively); with ``translations``
    (chunk id or entry id → text, :func:`load_translations`), each chunk carries its own
    translation, else its entry's, as after ``ingest --translate``."""
    index = KnowledgeIndex(embedders, config, reranker=reranker, gate=gate)
    tr = translations or {}
    index.replace(replace(c, translation=tr.get(c.id) or tr.get(c.doc_id, "")) for c in kb_chunks(kb))
    return index


def _first(result: SearchResult) -> str:
    """The document a search ranks first (``""`` when nothing matched)."""
    return result.best.chunk.doc_id if result.best else ""


async def _outcome(
    row: dict[str, Any], index: KnowledgeIndex, answerer: Answerer, triage: Triage, scorer: SentimentScorer
) -> Outcome:
    text = str(row["text"])
    base = index.search(text, config=BASELINE).best
    base_doc = base.chunk.doc_id if base else ""
    mood = scorer.score(text)
    reason = triage.reason(text, mood, 1 if mood.label == "negative" else 0)
    if reason:
        return Outcome(
            row, "handoff", "", 0.0, reason, False, base_doc, mood.label, _first(index.search(text))
        )
    ans: Answer = await answerer.answer(text)
    # A first message has no history: the answer's search is the index's own ranking of it.
    ranked = _first(ans.search if ans.search else index.search(text))
    conf = ans.search.confidence if ans.search else 0.0
    if ans.handoff:
        return Outcome(row, "handoff", "", conf, ans.handoff, False, base_doc, mood.label, ranked)
    if not ans.confident or not ans.citations:
        return Outcome(row, "rephrase", "", conf, "low_confidence", False, base_doc, mood.label, ranked)
    doc = ans.citations[0].chunk.split("::")[0]
    return Outcome(row, "answer", doc, conf, "", ans.foreign, base_doc, mood.label, ranked)


def run_messages(
    s: EvalSet,
    embedders: Sequence[Embedder],
    config: RetrievalConfig | None = None,
    *,
    translated: bool = False,
    reranker: Reranker | Literal["shipped"] | None = "shipped",
    gate: AnswerGate | Literal["shipped"] | None = "shipped",
    overrule_floor_from: float = BotConfig().overrule_floor_from,
) -> list[Outcome]:
    """Every message of ``s`` through the bot's decision, one new conversation each (with the
    set's translations indexed when ``translated``); ``config``, ``reranker`` and ``gate``
    default to the bot's own."""
    cfg = config or BotConfig().retrieval()
    model = shipped_reranker() if reranker == "shipped" else reranker
    gating = shipped_gate() if gate == "shipped" else gate
    index = build_index(embedders, s.kb, cfg, s.translations if translated else None, model, gating)
    use = next(e for e in embedders if e.name == USE_NAME)
    answerer = Answerer(index, app_name=s.business, topics=s.topics, overrule_floor_from=overrule_floor_from)
    triage = Triage()
    scorer = bot_scorer(use)

    async def run() -> list[Outcome]:
        return [await _outcome(r, index, answerer, triage, scorer) for r in s.messages]

    return asyncio.run(run())


def _ratio(xs: Iterable[bool]) -> Ratio:
    got = list(xs)
    return Ratio(sum(got), len(got))


def retrieval_metrics(outs: Sequence[Outcome]) -> dict[str, Ratio]:
    """The per-set table row: top-1 by language, hand-overs, traps, calibration, baseline."""
    ans = [o for o in outs if o.row["expect"] == "answer"]
    en = [o for o in ans if o.row["lang"] == "en"]
    zh = [o for o in ans if o.row["lang"] != "en"]
    want = [o for o in outs if o.row["expect"] == "handoff"]
    given = [o for o in outs if o.action == "answer"]
    xl = [o for o in given if o.right and o.row["cross_lingual"]]
    return {
        "top-1 EN": _ratio(o.right for o in en),
        "top-1 ZH+mixed": _ratio(o.right for o in zh),
        "top-1 cross-lingual": _ratio(o.right for o in ans if o.row["cross_lingual"]),
        "top-1 all": _ratio(o.right for o in ans),
        "baseline top-1 all": _ratio(o.baseline_right for o in ans),
        "ranked first, no threshold or hand-over": _ratio(o.ranked_doc in o.row["answers"] for o in ans),
        "declined answerable": _ratio(o.action != "answer" for o in ans),
        "human request handed over": _ratio(o.action == "handoff" for o in want if o.row["kind"] == "human"),
        "complaint handed over": _ratio(o.action == "handoff" for o in want if o.row["kind"] == "complaint"),
        "out-of-scope handed over": _ratio(
            o.action == "handoff" for o in want if o.row["kind"] == "out-of-scope"
        ),
        "out-of-scope answered": _ratio(
            o.action == "answer" for o in want if o.row["kind"] == "out-of-scope"
        ),
        "traps handed over": _ratio(o.action == "handoff" for o in ans if o.row["kind"] == "trap"),
        "calibration: answers right": _ratio(o.right for o in given),
        "right cross-lingual answers with a notice": _ratio(o.foreign_notice for o in xl),
    }


def sentiment_metrics(outs: Sequence[Outcome]) -> dict[str, Ratio]:
    """Over the messages a set labels with the customer's feeling (``sentiment``): how often the
    bot's label is the same, how many negative messages it found, and how many it called negative
    were (the sentiment hand-over acts on the negative label)."""
    rows = [o for o in outs if o.row.get("sentiment")]
    return {
        "labelled messages": Ratio(len(rows), len(outs)),
        "label right": _ratio(o.mood == o.row["sentiment"] for o in rows),
        "negative found (recall)": _ratio(
            o.mood == "negative" for o in rows if o.row["sentiment"] == "negative"
        ),
        "called negative and is (precision)": _ratio(
            o.row["sentiment"] == "negative" for o in rows if o.mood == "negative"
        ),
    }


def calibration_bins(
    outs: Sequence[Outcome], edges: Sequence[float] = (0.0, 0.4, 0.5, 0.7, 1.01)
) -> dict[str, Ratio]:
    """How often an answer is right, per band of the bot's confidence."""
    given = [o for o in outs if o.action == "answer"]
    return {
        f"{lo:.2f}–{min(hi, 1.0):.2f}": _ratio(o.right for o in given if lo <= o.confidence < hi)
        for lo, hi in itertools.pairwise(edges)
    }


def tag_metrics(tagger: InterestTagger, rows: Sequence[dict[str, Any]]) -> dict[str, Ratio]:
    """Micro precision/recall over (message, tag) pairs and hard negatives left untagged."""
    tp = pred = exp = 0
    clean: list[bool] = []
    for row in rows:
        got = {m.name for m in tagger.match(str(row["text"]))}
        want = set(row["tags"])
        tp, pred, exp = tp + len(got & want), pred + len(got), exp + len(want)
        if row["kind"] == "hard-negative":
            clean.append(not got)
    return {"precision": Ratio(tp, pred), "recall": Ratio(tp, exp), "hard negatives untagged": _ratio(clean)}


def tagger_for(
    s: EvalSet,
    use: Embedder,
    *,
    service_questions: bool = True,
    english: Embedder | None = None,
    **overrides: Any,
) -> InterestTagger:
    """The set's tag file with the code's defaults for anything it leaves out, plus (as the bot
    does) the set's FAQ questions as negatives; ``english``: the English model, as the bot has it."""
    defs, options = load_tag_definitions(s.tags_file)
    tagger = InterestTagger(use, defs, english=english, **{**options, **overrides})
    if service_questions:
        tagger.add_service_questions([d.question for d in load_directory(s.kb) if d.question])
    return tagger


def with_threshold(config: RetrievalConfig, threshold: float) -> RetrievalConfig:
    """``config`` with another answer threshold."""
    return replace(config, answer_threshold=threshold)
