"""Choosing the tag defaults leave one set out (parley.bots.tags_fit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.bots.evalsets import load_sets
from parley.bots.knowledge.embedders import MiniLMEmbedder, MultilingualUSEEmbedder
from parley.bots.tags_fit import TagCounts, choose, grid_counts, leave_one_set_out, main, pooled

LOOSE, STRICT = (0.40, 0.05, 0.08), (0.45, 0.10, 0.0)
# Three businesses: on each, the loose point tags more (and more wrongly) than the strict one.
COUNTS = {
    ("a", LOOSE): TagCounts(9, 12, 10),
    ("a", STRICT): TagCounts(7, 8, 10),
    ("b", LOOSE): TagCounts(8, 11, 10),
    ("b", STRICT): TagCounts(6, 7, 10),
    ("c", LOOSE): TagCounts(9, 10, 10),
    ("c", STRICT): TagCounts(5, 5, 10),
}


def test_counts_add_and_give_precision_and_recall() -> None:
    total = TagCounts(3, 4, 6) + TagCounts(1, 1, 2)
    assert (total.right, total.given, total.expected) == (4, 5, 8)
    assert (total.precision, total.recall) == (0.8, 0.5)
    assert TagCounts().precision == 1.0 and TagCounts().recall == 1.0


def test_pooled_sums_the_named_sets_only() -> None:
    assert pooled(COUNTS, LOOSE, ["a", "b"]) == TagCounts(17, 23, 20)


def test_choose_takes_the_most_recall_among_points_precise_enough() -> None:
    names = ["a", "b", "c"]
    # LOOSE pools 26/33 = 0.79 precise with recall 0.87; STRICT 18/20 = 0.90 with recall 0.60.
    assert choose(COUNTS, names, 0.75) == LOOSE
    assert choose(COUNTS, names, 0.85) == STRICT


def test_choose_falls_back_to_the_most_precise_point() -> None:
    assert choose(COUNTS, ["a", "b", "c"], 0.99) == STRICT


def test_leave_one_set_out_scores_each_set_with_the_others_choice() -> None:
    # Without c, LOOSE is 17/23 = 0.74 precise: below 0.80, so c gets STRICT; without a or b, LOOSE
    # reaches 0.81 / 0.82 and has more recall, so a and b get LOOSE.
    total, picks = leave_one_set_out(COUNTS, 0.80)
    assert picks == {LOOSE: 2, STRICT: 1}
    assert total == COUNTS[("a", LOOSE)] + COUNTS[("b", LOOSE)] + COUNTS[("c", STRICT)]


@pytest.fixture(scope="module")
def two_sets() -> list:
    return [s for s in load_sets() if s.name in {"card", "travel"}]


def test_grid_counts_tag_real_sets_and_a_stricter_point_never_tags_more(
    two_sets: list, use: MultilingualUSEEmbedder, minilm: MiniLMEmbedder
) -> None:
    counts = grid_counts(two_sets, use, minilm, [LOOSE, STRICT])
    for s in two_sets:
        loose, strict = counts[(s.name, LOOSE)], counts[(s.name, STRICT)]
        assert loose.expected == strict.expected == sum(len(r["tags"]) for r in s.tag_messages)
        assert 0 < strict.given <= loose.given
        assert strict.right <= loose.right


def test_the_command_prints_the_grid_and_the_estimate(
    tmp_path: Path, two_sets: list, capsys: pytest.CaptureFixture[str]
) -> None:
    for s in two_sets:
        (tmp_path / s.name).symlink_to(s.folder)
    main(["--sets", str(tmp_path), "--target", "0.85"])
    out = capsys.readouterr().out
    assert "Tag defaults on 2 development sets" in out
    assert "| 0.85 | P " in out
