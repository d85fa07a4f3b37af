"""Choose the interest tagger's default threshold, margin and gap, leave one set out.

``python -m parley.bots.tags_fit`` tags every development set's tag messages (holdouts are never
read) under each point of a grid of ``threshold`` × ``margin`` × ``gap``, as the bot tags them
(the set's tag file, its FAQ questions as negatives, the English model blended in), and prints:

- each point's precision and recall pooled over all the sets;
- the leave-one-set-out estimate: each set tagged with the point chosen on the *other* sets, the
  rule being *the most recall among the points whose pooled precision reaches the target* (the
  highest precision when none does) — the figure to expect on a business the defaults never saw;
- the point the same rule picks on all the sets.

It writes nothing: the chosen point is the code's default in
:class:`~parley.bots.tags.InterestTagger`, changed by hand with the numbers in docs/BOT_QUALITY.md.
"""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from parley.bots.evalsets import UNSEEN_DIR, EvalSet, load_sets, tagger_for
from parley.bots.knowledge.embedders import CachedEmbedder, Embedder, MiniLMEmbedder, MultilingualUSEEmbedder

__all__ = [
    "GRID",
    "Counts",
    "Point",
    "TagCounts",
    "choose",
    "grid_counts",
    "leave_one_set_out",
    "main",
    "pooled",
]

#: (threshold, margin, gap)
Point = tuple[float, float, float]

GRID: list[Point] = list(
    itertools.product(
        (0.40, 0.42, 0.44, 0.46, 0.48), (0.06, 0.08, 0.10, 0.12), (0.0, 0.01, 0.02, 0.03, 0.05, 0.08)
    )
)


@dataclass(frozen=True, slots=True)
class TagCounts:
    """(message, tag) pairs: right tags given, tags given, tags expected."""

    right: int = 0
    given: int = 0
    expected: int = 0

    def __add__(self, other: TagCounts) -> TagCounts:
        return TagCounts(self.right + other.right, self.given + other.given, self.expected + other.expected)

    @property
    def precision(self) -> float:
        """Right tags over tags given (1.0 when none was given)."""
        return self.right / self.given if self.given else 1.0

    @property
    def recall(self) -> float:
        """Right tags over tags expected (1.0 when none was expected)."""
        return self.right / self.expected if self.expected else 1.0

    def __str__(self) -> str:
        return f"P {self.precision:.3f} ({self.right}/{self.given}), R {self.recall:.3f} ({self.right}/{self.expected})"


#: Counts per (set name, grid point).
Counts = Mapping[tuple[str, Point], TagCounts]


def grid_counts(
    sets: Sequence[EvalSet], use: Embedder, english: Embedder | None, grid: Iterable[Point] = GRID
) -> dict[tuple[str, Point], TagCounts]:
    """Each set's counts under each grid point (pass cached embedders: every point re-reads the texts)."""
    points = list(grid)
    out: dict[tuple[str, Point], TagCounts] = {}
    for s in sets:
        for point in points:
            threshold, margin, gap = point
            tagger = tagger_for(s, use, english=english, threshold=threshold, margin=margin, gap=gap)
            total = TagCounts()
            for row in s.tag_messages:
                got = {m.name for m in tagger.match(str(row["text"]))}
                want = set(row["tags"])
                total += TagCounts(len(got & want), len(got), len(want))
            out[(s.name, point)] = total
    return out


def pooled(counts: Counts, point: Point, names: Collection[str]) -> TagCounts:
    """``point``'s counts summed over the sets ``names``."""
    total = TagCounts()
    for name in names:
        total += counts[(name, point)]
    return total


def choose(counts: Counts, names: Collection[str], target: float) -> Point:
    """The point with the most pooled recall over ``names`` among those whose pooled precision
    reaches ``target``; the most precise point when none does.  Ties go to the earlier grid point."""
    points = list(dict.fromkeys(point for _, point in counts))
    sums = {p: pooled(counts, p, names) for p in points}
    reaching = [p for p in points if sums[p].precision >= target]
    if reaching:
        return max(reaching, key=lambda p: (sums[p].recall, sums[p].precision))
    return max(points, key=lambda p: sums[p].precision)


def leave_one_set_out(counts: Counts, target: float) -> tuple[TagCounts, Counter[Point]]:
    """Every set's counts under the point chosen on the other sets, summed; and how often each point was chosen."""
    names = sorted({name for name, _ in counts})
    total, picks = TagCounts(), Counter[Point]()
    for name in names:
        point = choose(counts, [n for n in names if n != name], target)
        picks[point] += 1
        total += counts[(name, point)]
    return total, picks


def main(argv: Sequence[str] | None = None) -> None:
    """Print the grid, the leave-one-set-out estimate per target and the chosen defaults."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.tags_fit", description=__doc__)
    ap.add_argument("--sets", type=Path, default=UNSEEN_DIR, help="folder of evaluation sets")
    ap.add_argument(
        "--target", default="0.85,0.87,0.90", help="comma-separated precision targets of the rule"
    )
    args = ap.parse_args(argv)
    sets = [s for s in load_sets(args.sets) if not s.holdout]
    use, english = CachedEmbedder(MultilingualUSEEmbedder()), CachedEmbedder(MiniLMEmbedder())
    counts = grid_counts(sets, use, english)
    names = [s.name for s in sets]
    print(f"## Tag defaults on {len(sets)} development sets\n")
    print("| threshold | margin | gap | pooled over all sets |\n|---|---|---|---|")
    for point in GRID:
        print(f"| {point[0]:.2f} | {point[1]:.2f} | {point[2]:.2f} | {pooled(counts, point, names)} |")
    print(
        "\n| precision target | leave one set out | points chosen (times) | chosen on all sets |\n|---|---|---|---|"
    )
    for target in (float(t) for t in args.target.split(",") if t.strip()):
        total, picks = leave_one_set_out(counts, target)
        chosen = ", ".join(f"{p} ×{n}" for p, n in picks.most_common(3))
        print(f"| {target:.2f} | {total} | {chosen} | {choose(counts, names, target)} |")


if __name__ == "__main__":
    main()
