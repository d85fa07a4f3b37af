"""The unseen-set evaluation runs end to end and reports every set, the totals and the baseline.

Numbers are reported by ``python -m parley.bots.eval``, never asserted here; these tests pin the
report's structure, the holdout rule and the scoring arithmetic.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from parley.bots.eval import main as eval_main
from parley.bots.eval_report import sum_ratios, unseen_report
from parley.bots.evalsets import (
    Outcome,
    build_index,
    kb_chunks,
    load_sets,
    only_holdouts,
    retrieval_metrics,
    sentiment_metrics,
    with_translations,
)
from parley.bots.knowledge import MiniLMEmbedder, MultilingualUSEEmbedder, load_directory
from parley.bots.knowledge.eval import Ratio


def test_sets_are_complete_and_the_holdouts_come_last() -> None:
    sets = load_sets()
    assert len(sets) >= 3
    flags = [s.holdout for s in sets]
    assert flags == sorted(flags), "load_sets lists the development sets first"
    assert 1 <= flags.count(True) < len(flags) - 2, "at least one holdout, at least three development sets"
    for s in sets:
        assert len(s.messages) >= 60 and len(s.tag_messages) >= 40
        kinds = {m["kind"] for m in s.messages}
        assert {"cross-lingual", "code-mixed", "trap", "human", "complaint", "out-of-scope"} <= kinds
        assert any(p.parent.name == "guides" for p in s.kb.rglob("*.md"))


def test_every_label_names_an_entry_of_its_own_knowledge_base() -> None:
    """A typo in an ``answers`` id would silently count a right answer as wrong."""
    for s in load_sets():
        ids = {d.id for d in load_directory(s.kb)}
        for row in s.messages:
            assert set(row["answers"]) <= ids, (s.name, row["id"], set(row["answers"]) - ids)
            assert (row["expect"] == "answer") == bool(row["answers"]), row["id"]
        defined = {str(t["name"]) for t in json.loads(s.tags_file.read_text(encoding="utf-8"))["tags"]}
        for row in s.tag_messages:
            assert set(row["tags"]) <= defined, (s.name, row["id"])
            assert (row["kind"] == "hard-negative") == (not row["tags"]), row["id"]


# Three index builds with both models and every tagger: ~80 s alone on 2 cores, more on a shared machine.
@pytest.mark.timeout(300)
def test_report_scores_each_set_and_totals_but_not_the_holdout(
    minilm: MiniLMEmbedder, use: MultilingualUSEEmbedder
) -> None:
    sets = load_sets()
    small = [
        replace(s, messages=s.messages[:3] + s.messages[-3:], tag_messages=s.tag_messages[:3])
        for s in sets
        if s.name in ("card", "travel")  # two development sets show the totals; each costs an index build
    ]
    # The real holdouts are never scored by a test (that would be a look at them): a development
    # set marked as one stands in for a holdout.
    holdout = replace(
        small[-1],
        name="stand-in",
        holdout=True,
        messages=[{**m, "sentiment": "neutral"} for m in small[-1].messages],  # a set that labels feelings
    )
    report = unseen_report([*small, holdout], [minilm, use], holdout=False)
    assert "| card |" in report and "| travel |" in report
    assert "(holdout) |" not in report and f"Not scored: {holdout.name}" in report
    assert "| total, development sets |" in report
    for heading in (
        "baseline top-1 all",
        "ranked first, no threshold or hand-over",
        "calibration: answers right",
        "Calibration: answers right per confidence band",
        "hard negatives untagged",
    ):
        assert heading in report
    assert "No scored set labels its messages' sentiment" in report
    with_holdout = unseen_report([holdout], [minilm, use], holdout=True)
    assert "| stand-in (holdout) |" in with_holdout
    assert "### Sentiment: the bot's label against the set's" in with_holdout


def _out(
    expect: str, kind: str, action: str, doc: str = "", answers: tuple[str, ...] = (), ranked: str = ""
) -> Outcome:
    row = {"expect": expect, "kind": kind, "lang": "en", "cross_lingual": False, "answers": list(answers)}
    return Outcome(row, action, doc, 0.6, "", False, answers[0] if answers else "x", ranked_doc=ranked or doc)


def test_metrics_count_right_answers_handovers_and_calibration() -> None:
    outs = [
        _out("answer", "plain", "answer", "a", ("a",)),
        _out("answer", "trap", "answer", "b", ("a",)),  # answered, wrong entry
        _out("answer", "plain", "rephrase", answers=("a",), ranked="a"),  # ranked right, declined
        _out("handoff", "complaint", "answer", "c"),  # answered a complaint: wrong
        _out("handoff", "human", "handoff"),
    ]
    m = retrieval_metrics(outs)
    assert m["top-1 all"] == Ratio(1, 3)
    assert m["declined answerable"] == Ratio(1, 3)
    assert m["ranked first, no threshold or hand-over"] == Ratio(2, 3)  # the decline does not count
    assert m["complaint handed over"] == Ratio(0, 1) and m["human request handed over"] == Ratio(1, 1)
    assert m["calibration: answers right"] == Ratio(1, 3)
    assert m["traps handed over"] == Ratio(0, 1)
    assert sum_ratios([m, m])["top-1 all"] == Ratio(2, 6)


def test_sentiment_is_scored_on_the_messages_a_set_labels() -> None:
    def felt(label: str, mood: str) -> Outcome:
        row = {"expect": "answer", "kind": "plain", "lang": "en", "cross_lingual": False, "answers": ["a"]}
        if label:
            row["sentiment"] = label
        return Outcome(row, "answer", "a", 0.6, "", False, "a", mood)

    m = sentiment_metrics(
        [felt("negative", "negative"), felt("negative", "neutral"), felt("neutral", "negative"),
         felt("positive", "positive"), felt("", "negative")]
    )  # fmt: skip
    assert m["labelled messages"] == Ratio(4, 5)
    assert m["label right"] == Ratio(2, 4)
    assert m["negative found (recall)"] == Ratio(1, 2)
    assert m["called negative and is (precision)"] == Ratio(1, 2)


def test_translations_cover_their_set_and_reach_the_index(use: MultilingualUSEEmbedder) -> None:
    """``--translations`` indexes each set's hand-written translations (a ceiling for
    ``ingest --translate``); the holdout has none, so its score is the offline bot's."""
    sets = load_sets()
    for s in sets:
        if s.translations:
            assert set(s.translations) == {d.id for d in load_directory(s.kb)}, s.name
    assert not any(s.translations for s in sets if s.holdout), "holdouts are scored as the bot runs offline"
    card = next(s for s in sets if s.name == "card")
    index = build_index([use], card.kb, translations=card.translations)
    chunk = next(c for c in index.chunks if c.doc_id == "zh.pin-reset")
    assert chunk.translation.startswith("What if I forget my PIN?")
    assert all(not c.translation for c in build_index([use], card.kb).chunks)


def test_a_models_per_chunk_translations_file_reaches_each_chunk(
    tmp_path: Path, use: MultilingualUSEEmbedder
) -> None:
    """``eval --translations-file NAME`` indexes what ``ingest --translate`` makes: one translation
    per chunk (a long guide section is several chunks, each translated on its own), read from the
    set's own NAME (written by ``loadtests.translate_sets``); entry-keyed rows still apply to every
    chunk of their entry, and a set without the file is scored untranslated."""
    dental = next(s for s in load_sets() if s.name == "dental")
    chunks = kb_chunks(dental.kb)
    long_doc = next(d for d in {c.doc_id for c in chunks} if sum(c.doc_id == d for c in chunks) > 1)
    parts = [c for c in chunks if c.doc_id == long_doc]
    other = next(c for c in chunks if c.doc_id != long_doc)
    folder = tmp_path / "dental"
    folder.mkdir()
    shutil.copytree(dental.kb, folder / "kb")
    rows = [{"chunk": c.id, "doc_id": c.doc_id, "translation": f"part {n}"} for n, c in enumerate(parts)]
    rows.append({"id": other.doc_id, "translation": "whole entry"})
    (folder / "translations.m.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    s = with_translations(replace(dental, kb=folder / "kb"), "translations.m.jsonl")
    assert len(s.translations) == len(parts) + 1
    index = build_index([use], s.kb, translations=s.translations)
    got = {c.id: c.translation for c in index.chunks}
    assert [got[c.id] for c in parts] == [f"part {n}" for n in range(len(parts))]
    assert got[other.id] == "whole entry"
    assert sum(bool(t) for t in got.values()) == len(parts) + 1
    assert not with_translations(dental, "translations.none.jsonl").translations


def test_the_eval_takes_one_translation_source() -> None:
    with pytest.raises(SystemExit) as exc:
        eval_main(["--translations", "--translations-file", "translations.m.jsonl"])
    assert exc.value.code == 2


def test_only_the_named_holdouts_are_scored_and_a_typo_is_an_error() -> None:
    sets = load_sets()
    holdouts = [s.name for s in sets if s.holdout]
    picked = only_holdouts(sets, holdouts[:1])
    assert [s.name for s in picked if s.holdout] == holdouts[:1]
    assert [s.name for s in picked if not s.holdout] == [s.name for s in sets if not s.holdout]
    with pytest.raises(ValueError, match="no holdout set named card"):
        only_holdouts(sets, ["card"])  # a development set is not a holdout
    with pytest.raises(SystemExit) as exc:
        eval_main(["--holdout", "no-such-set"])
    assert exc.value.code == 2
