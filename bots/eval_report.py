"""The unseen-set report printed by ``python -m parley.bots.eval``: Markdown tables per set and in total.

The holdout set is only scored with ``--holdout`` (once, at the end of a piece of work):
judging changes on it would turn it into one more tuning set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from parley.bots.eval_stats import paired
from parley.bots.evalsets import (
    EvalSet,
    Outcome,
    calibration_bins,
    retrieval_metrics,
    run_messages,
    sentiment_metrics,
    tag_metrics,
    tagger_for,
)
from parley.bots.knowledge.embedders import Embedder
from parley.bots.knowledge.eval import Ratio
from parley.bots.knowledge.retrieval import RetrievalConfig
from parley.bots.tags import THRESHOLD_ONLY

__all__ = ["sum_ratios", "table", "unseen_report"]

Row = tuple[str, dict[str, Ratio]]


def sum_ratios(parts: Sequence[dict[str, Ratio]]) -> dict[str, Ratio]:
    """Add hits and totals key by key (a total over sets, not a mean of ratios)."""
    out: dict[str, Ratio] = {}
    for part in parts:
        for k, r in part.items():
            prev = out.get(k, Ratio(0, 0))
            out[k] = Ratio(prev.hits + r.hits, prev.total + r.total)
    return out


def table(title: str, rows: Sequence[tuple[str, Mapping[str, object]]], note: str = "") -> str:
    """One Markdown table: a row per set, a column per measure."""
    cols = list(rows[0][1])
    lines = [f"### {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| set | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {name} | " + " | ".join(str(m[c]) for c in cols) + " |" for name, m in rows]
    return "\n".join(lines) + "\n"


def _label(s: EvalSet) -> str:
    return f"{s.name} (holdout)" if s.holdout else s.name


def _with_totals(rows: list[Row], dev: list[Row]) -> list[Row]:
    out = list(rows)
    if len(dev) > 1:
        out.append(("total, development sets", sum_ratios([m for _, m in dev])))
    if len(rows) > len(dev):
        out.append(("total, all sets", sum_ratios([m for _, m in rows])))
    return out


def _versus_baseline(
    scored: Sequence[EvalSet], outs: Mapping[str, Sequence[Outcome]]
) -> list[tuple[str, dict[str, str]]]:
    """Per set, then pooled over the development sets, the holdouts and all sets (pairs, not sums)."""

    def answerable(sets: Sequence[EvalSet]) -> list[Outcome]:
        return [o for s in sets for o in outs[s.name] if o.row["expect"] == "answer"]

    out = [(_label(s), paired(answerable([s])).cells()) for s in scored]
    dev = [s for s in scored if not s.holdout]
    held = [s for s in scored if s.holdout]
    if len(dev) > 1:
        out.append(("total, development sets", paired(answerable(dev)).cells()))
    if len(held) > 1:
        out.append(("total, holdouts", paired(answerable(held)).cells()))
    if held and dev:
        out.append(("total, all sets", paired(answerable(scored)).cells()))
    return out


def unseen_report(
    sets: Sequence[EvalSet],
    embedders: Sequence[Embedder],
    *,
    holdout: bool,
    translated: bool = False,
    translation_source: str = "",
    config: RetrievalConfig | None = None,
) -> str:
    """Score ``sets`` (the holdout only when ``holdout``; with their translations indexed when
    ``translated``, read from the file ``translation_source`` names, default the hand-written
    ``translations.jsonl``; under ``config``, default the bot's) and render every table."""
    use = next(e for e in embedders if e.multilingual)
    scored = [s for s in sets if holdout or not s.holdout]
    skipped = [s.name for s in sets if s.holdout and not holdout]
    outs = {s.name: run_messages(s, embedders, config, translated=translated) for s in scored}

    def rows(metric: Callable[[EvalSet], dict[str, Ratio]]) -> tuple[list[Row], list[Row]]:
        all_rows = [(_label(s), metric(s)) for s in scored]
        return all_rows, [r for r, s in zip(all_rows, scored, strict=True) if not s.holdout]

    decisions, dev_decisions = rows(lambda s: retrieval_metrics(outs[s.name]))
    versus = _versus_baseline(scored, outs)
    bins, dev_bins = rows(lambda s: calibration_bins(outs[s.name]))
    labelled = [s for s in scored if any(m.get("sentiment") for m in s.messages)]
    moods = [(_label(s), sentiment_metrics(outs[s.name])) for s in labelled]
    dev_moods = [r for r, s in zip(moods, labelled, strict=True) if not s.holdout]
    english = next((e for e in embedders if not e.multilingual), None)
    tags, dev_tags = rows(lambda s: tag_metrics(tagger_for(s, use, english=english), s.tag_messages))
    no_cues, dev_no_cues = rows(
        lambda s: tag_metrics(tagger_for(s, use, problem_penalty=0.0, want_bonus=0.0), s.tag_messages)
    )
    use_only, dev_use_only = rows(lambda s: tag_metrics(tagger_for(s, use), s.tag_messages))
    plain, dev_plain = rows(
        lambda s: tag_metrics(
            tagger_for(s, use, service_questions=False, negatives=[], **THRESHOLD_ONLY), s.tag_messages
        )
    )
    n_msgs = sum(len(s.messages) for s in scored)
    n_tags = sum(len(s.tag_messages) for s in scored)
    head = (
        f"## Unseen businesses: {', '.join(_label(s) for s in scored)} "
        f"({n_msgs} customer messages, {n_tags} tag messages)\n"
    )
    if translated:
        with_tr = [f"{s.name} ({len(s.translations)})" for s in scored if s.translations]
        source = (
            f"`{translation_source}`, a model's translation of each chunk (`ingest --translate`)"
            if translation_source
            else "`translations.jsonl`, written by hand as a stand-in for `ingest --translate`"
        )
        head += f"\nIndexed with translations ({source}): {', '.join(with_tr) or 'none'}.\n"
    if skipped:
        head += (
            f"\nNot scored: {', '.join(skipped)} (the holdout; `--holdout` scores it, once, at the end).\n"
        )
    return "\n".join(
        [
            head,
            table(
                "Bot decisions, one new conversation per message (no LLM)",
                _with_totals(decisions, dev_decisions),
                "top-1 = answered from a labelled entry; baseline = plain multilingual USE, top-1, "
                "no threshold, same run; calibration = share of the answers given that are right.",
            ),
            table(
                "The bot against the baseline, message by message (answerable messages)",
                versus,
                "Wilson 95 % intervals; the two counts are the messages exactly one of the two gets right, "
                "and the exact McNemar p says how often a split that uneven happens by chance when neither is better.",
            ),
            table("Calibration: answers right per confidence band", _with_totals(bins, dev_bins)),
            table(
                "Sentiment: the bot's label against the set's (sets that label their messages)",
                _with_totals(moods, dev_moods),
            )
            if moods
            else "### Sentiment\n\nNo scored set labels its messages' sentiment.\n",
            table(
                "Interest tags: the set's tag file, the code's defaults (gap, margin, intent cues), FAQ questions as negatives",
                _with_totals(tags, dev_tags),
            ),
            table(
                "Interest tags: the same with the multilingual model alone (no English model blended in)",
                _with_totals(use_only, dev_use_only),
            ),
            table(
                "Interest tags: multilingual model alone, without the intent cues (the tagger before session 7)",
                _with_totals(no_cues, dev_no_cues),
            ),
            table(
                "Interest tags: threshold only (no gap, no margin, no negatives, no intent cues)",
                _with_totals(plain, dev_plain),
            ),
        ]
    )
