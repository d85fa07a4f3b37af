"""Every bot quality number in docs/BOT_QUALITY.md, from one command.

``python -m parley.bots.eval`` (no network) scores the bot on the evaluation sets of businesses it
was never tuned on (``tests/data/unseen``; :mod:`parley.bots.evalsets`): per set and in total, next
to a plain-USE baseline measured in the same run, with calibration and tag precision/recall.  The
holdout set is scored only with ``--holdout`` (once, at the end of a piece of work).

``--own`` adds the example shop's tables (its own tuning data in ``tests/data``): retrieval top-1
per configuration, explicit requests for a human (``tune``, ``holdout``, ``fresh``), interest tags
and sentiment.  The per-measure commands (``python -m parley.bots.knowledge.eval``,
``parley.bots.tags``, ``parley.bots.sentiment``) print subsets of those.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parley.bots.config import BotConfig
from parley.bots.eval_report import unseen_report
from parley.bots.evalsets import UNSEEN_DIR, load_sets, only_holdouts, with_translations
from parley.bots.knowledge.embedders import CachedEmbedder, MiniLMEmbedder, MultilingualUSEEmbedder
from parley.bots.knowledge.eval import (
    CONFIGS,
    DATA_DIR,
    KB_DIR,
    Ratio,
    _table,
    _versions,
    build_index,
    evaluate_handoff,
    evaluate_retrieval,
    load_jsonl,
)
from parley.bots.knowledge.handoff import HandoffDetector
from parley.bots.sentiment import SentimentScorer
from parley.bots.tags import DEFAULT_TAGS, THRESHOLD_ONLY, InterestTagger, load_tag_definitions

__all__ = ["evaluate_sentiment", "evaluate_tags", "main", "own_sets"]

Rows = Sequence[dict[str, Any]]


def _split(rows: Rows, name: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["split"] == name]


def evaluate_tags(tagger: InterestTagger, rows: Rows) -> dict[str, Ratio]:
    """Precision and recall over (message, tag) pairs, overall and per language."""
    counts: dict[str, list[int]] = {k: [0, 0, 0] for k in ("all", "en", "zh")}
    for row in rows:
        got = {m.name for m in tagger.match(str(row["text"]))}
        want = set(row["tags"])
        for key in ("all", str(row["lang"])):
            c = counts.setdefault(key, [0, 0, 0])
            c[0] += len(got & want)
            c[1] += len(got)
            c[2] += len(want)
    out: dict[str, Ratio] = {}
    for key, label in (("all", ""), ("en", "EN "), ("zh", "ZH ")):
        tp, pred, exp = counts[key]
        out[f"{label}precision"] = Ratio(tp, pred)
        out[f"{label}recall"] = Ratio(tp, exp)
    return out


def evaluate_sentiment(scorer: SentimentScorer, rows: Rows) -> dict[str, Ratio]:
    """Accuracy per language and precision/recall of the ``negative`` label."""
    pred = [(row, scorer.score(str(row["text"])).label) for row in rows]
    out = {
        lang: Ratio(
            sum(p == r["label"] for r, p in pred if r["lang"] == lang),
            sum(r["lang"] == lang for r, _ in pred),
        )
        for lang in ("en", "zh", "mixed")
    }
    out = {"English": out["en"], "Chinese": out["zh"], "code-mixed": out["mixed"]}
    out["all"] = Ratio(sum(p == r["label"] for r, p in pred), len(pred))
    out["negative: precision"] = Ratio(
        sum(r["label"] == "negative" for r, p in pred if p == "negative"),
        sum(p == "negative" for _, p in pred),
    )
    out["negative: recall"] = Ratio(
        sum(p == "negative" for r, p in pred if r["label"] == "negative"),
        sum(r["label"] == "negative" for r, _ in pred),
    )
    return out


def own_sets(args: argparse.Namespace, minilm: CachedEmbedder, use: CachedEmbedder) -> None:
    """Print the tables of the project's own (example shop) sets."""
    index = build_index([minilm, use], args.kb)

    questions = load_jsonl(args.data / "retrieval_eval.jsonl")
    retrieval = {
        name: {s: evaluate_retrieval(index, _split(questions, s), cfg) for s in ("tune", "holdout")}
        for name, cfg in CONFIGS.items()
    }

    requests = load_jsonl(args.data / "handoff_eval.jsonl")
    fresh = load_jsonl(args.data / "handoff_fresh.jsonl")
    hsplits: dict[str, Rows] = {
        "tune": _split(requests, "tune"),
        "holdout": _split(requests, "holdout"),
        "fresh": fresh,
    }
    detectors = {"rules": HandoffDetector(), "rules + USE similarity": HandoffDetector(use)}
    handoff = {
        name: {s: evaluate_handoff(d, rows) for s, rows in hsplits.items()} for name, d in detectors.items()
    }

    tag_rows = load_jsonl(args.data / "tags_eval.jsonl")
    tsplits: dict[str, Rows] = {
        "tune": _split(tag_rows, "tune"),
        "holdout": _split(tag_rows, "holdout"),
        "holdout, new": [r for r in tag_rows if r.get("batch") == "fresh"],
    }
    defs, options = load_tag_definitions(args.tags)
    base = float(options.get("threshold", 0.5))
    plain: dict[str, Any] = {"threshold": base, "negatives": [], **THRESHOLD_ONLY}
    taggers = {
        f"threshold {base:.2f} only": InterestTagger(use, defs, **plain),
        f"+ gap {options.get('gap', 1.0)} to the best tag": InterestTagger(
            use, defs, **{**plain, "gap": options.get("gap", 1.0)}
        ),
        "+ negatives (default file), no intent cues": InterestTagger(
            use, defs, **{**options, "problem_penalty": 0.0, "want_bonus": 0.0}
        ),
        "+ negatives (default file)": InterestTagger(use, defs, **options),
    }
    for delta in (-0.05, 0.05):
        taggers[f"default, threshold {base + delta:.2f}"] = InterestTagger(
            use, defs, **{**options, "threshold": base + delta}
        )
    tags = {name: {s: evaluate_tags(t, rows) for s, rows in tsplits.items()} for name, t in taggers.items()}

    moods = load_jsonl(args.data / "sentiment_eval.jsonl")
    scorers = {
        "lexicon + rules": SentimentScorer(),
        "lexicon + rules + USE example vote": SentimentScorer(embedder=use),
    }
    sentiment = {
        name: {s: evaluate_sentiment(sc, _split(moods, s)) for s in ("tune", "holdout", "fresh")}
        for name, sc in scorers.items()
    }

    print(
        f"{len(questions)} retrieval questions, {len(requests)} + {len(fresh)} hand-over messages, "
        f"{len(tag_rows)} tag messages, {len(moods)} sentiment messages; {_versions()}\n"
    )
    print(_table("Retrieval: top-1 accuracy and hand-over when the KB has no answer", retrieval))
    print(_table("Explicit requests for a human", handoff))
    print(_table("Interest tags: precision / recall over (message, tag) pairs", tags))
    print(_table("Sentiment: accuracy, and the negative label", sentiment))


def main(argv: Sequence[str] | None = None) -> None:
    """Print the unseen-set report (and, with ``--own``, the example shop's tables)."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.eval", description=__doc__)
    ap.add_argument("--sets", type=Path, default=UNSEEN_DIR, help="folder of unseen business sets")
    ap.add_argument(
        "--holdout",
        nargs="?",
        const="all",
        default="",
        metavar="NAMES",
        help="also score the holdout sets, or only the comma-separated NAMES (do this once, at the end)",
    )
    ap.add_argument("--own", action="store_true", help="also print the example shop's tables")
    ap.add_argument(
        "--translations",
        action="store_true",
        help="index each set's translations.jsonl (hand-written: a ceiling for ingest --translate)",
    )
    ap.add_argument(
        "--translations-file",
        metavar="NAME",
        help="index each set's NAME instead, e.g. translations.gemma3-270m.jsonl: a model's per-chunk "
        "translations written by loadtests.translate_sets (a set without the file is scored untranslated)",
    )
    ap.add_argument(
        "--no-gloss",
        dest="gloss",
        action="store_false",
        help="score without dictionary glosses (the bot's --no-gloss; they are on by default)",
    )
    ap.add_argument("--data", type=Path, default=DATA_DIR, help="folder with the *_eval.jsonl files")
    ap.add_argument("--kb", type=Path, default=KB_DIR, help="knowledge base folder (--own)")
    ap.add_argument("--tags", type=Path, default=DEFAULT_TAGS, help="tag definitions file (--own)")
    args = ap.parse_args(argv)
    if args.translations and args.translations_file:
        ap.error("--translations and --translations-file are two sources: pick one")
    sets = load_sets(args.sets)
    if args.holdout not in ("", "all"):
        try:
            sets = only_holdouts(sets, args.holdout.split(","))
        except ValueError as e:
            ap.error(f"--holdout: {e}")
    if args.translations_file:
        sets = [with_translations(s, args.translations_file) for s in sets]
    t0 = time.perf_counter()
    minilm, use = CachedEmbedder(MiniLMEmbedder()), CachedEmbedder(MultilingualUSEEmbedder())
    print(
        unseen_report(
            sets,
            [minilm, use],
            holdout=bool(args.holdout),
            translated=args.translations or bool(args.translations_file),
            translation_source=args.translations_file or "",
            config=BotConfig(gloss=args.gloss).retrieval(),
        )
    )
    if args.own:
        own_sets(args, minilm, use)
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
