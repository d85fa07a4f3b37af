"""Zero-shot interest and intent tags: customer messages matched against the app's tag definitions.

An app describes its tags in a JSON or YAML file (``python -m parley.bots --tags FILE``)::

    {"threshold": 0.5, "margin": 0.0, "gap": 0.2,
     "negatives": ["where is my order", "I want to return it"],
     "tags": [{"name": "interest:outerwear",
               "description": "wants to buy a jacket or coat",
               "examples": ["Do you have a warm winter coat?", "想买一件大衣"],
               "threshold": 0.55}]}

Each definition is embedded once (its description and every example, with the multilingual
USE model, so Chinese messages match English definitions and back). A message gets a tag
when its best cosine to that tag's texts clears the tag's threshold, beats its best cosine to
the ``negatives`` (service questions that merely mention the product: "the coat I ordered has
not arrived") by ``margin``, and lies within ``gap`` of the best tag's score (tags far below
the best share the phrasing, "Do you have ...", not the topic). The result says which text matched, as evidence.
Before those checks, two cues from the shape of the message (:mod:`parley.bots.tag_cues`) move
every tag's score: a problem report ("the pool heater is broken", 退款) lowers it by
``problem_penalty``, a request to get something ("I'd like ...", 有没有) raises it by
``want_bonus`` (neither for tags that are themselves about leaving or problems, such as churn or
closing the account): similarity finds the topic, the cue tells an interest from a mention.
With an English model as well (``english``, the bot's MiniLM when retrieval uses it), an
English message's score blends in that model's best cosine to the tag's English texts (and to the
English negatives), put on USE's scale through the two models' calibrations, with weight
``english_weight``: the English model reads English better; Chinese and mixed messages keep USE.
A file that leaves them out gets the defaults ``threshold`` 0.40, ``margin`` 0.08, ``gap`` 0.00,
``problem_penalty`` 0.20, ``want_bonus`` 0.05 and ``english_weight`` 0.25 (chosen on the unseen
development sets, leave one set out: ``python -m parley.bots.tags_fit``, docs/BOT_QUALITY.md): a
low absolute bar, because customers word an interest their own way, with the precision kept by the
margin over the business's own service questions and the problem cue; a gap of 0 gives a message
its best tag only (ties aside), because a second tag close behind the first was wrong more often
than right on 37 businesses — a customer's other interests are tagged from their other messages.
``"gap": 1.0``, ``"margin": 0``, a penalty, bonus and English weight of 0 turn those checks off.
The bot also adds the knowledge base's FAQ questions as negatives
(:meth:`InterestTagger.add_service_questions`).

Bad definitions (no name, a name with spaces, nothing to match, a threshold out of 0..1,
unreadable file) raise :class:`TagDefinitionError` with the reason; nothing is loaded.
Precision/recall on ``tests/data/tags_eval.jsonl``: ``python -m parley.bots.tags``, reported in
``docs/BOT_QUALITY.md``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from parley.bots.knowledge.embedders import Embedder
from parley.bots.knowledge.langs import cjk_ratio, simplified
from parley.bots.tag_cues import ending_cue, problem_cue, want_cue

__all__ = [
    "DEFAULT_TAGS",
    "THRESHOLD_ONLY",
    "InterestTagger",
    "TagDefinition",
    "TagDefinitionError",
    "TagMatch",
    "load_tag_definitions",
    "main",
]

DEFAULT_TAGS = Path(__file__).resolve().parent / "data" / "tags.json"
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "tags_eval.jsonl"
_NAME = re.compile(r"^[\w:.\-]{1,100}$")
#: The file's numeric options (each an :class:`InterestTagger` keyword).
_NUMERIC = ("threshold", "margin", "gap", "problem_penalty", "want_bonus", "english_weight")
#: Options that leave only the threshold: no gap, no margin, no intent cues (a baseline).
THRESHOLD_ONLY: dict[str, Any] = {"gap": 1.0, "margin": 0.0, "problem_penalty": 0.0, "want_bonus": 0.0}


class TagDefinitionError(ValueError):
    """A tag definition file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class TagDefinition:
    """One configured tag: what it means (``description``) and messages that carry it (``examples``)."""

    name: str
    description: str = ""
    examples: tuple[str, ...] = ()
    threshold: float | None = None

    def texts(self) -> list[str]:
        """The texts a message is compared with."""
        return [t for t in (self.description, *self.examples) if t.strip()]


@dataclass(frozen=True, slots=True)
class TagMatch:
    """A tag for a message: ``score`` is the best cosine (after the intent cue), ``matched`` the
    text it matched, ``cue`` the intent cue that moved the score (``"problem"``, ``"want"`` or ``""``)."""

    name: str
    score: float
    confidence: float
    matched: str
    cue: str = ""


def _definition(i: int, raw: Any, source: str) -> TagDefinition:
    where = f"{source}: tags[{i}]"
    if not isinstance(raw, dict):
        raise TagDefinitionError(f"{where}: must be an object with name, description, examples")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise TagDefinitionError(
            f"{where}: name must be 1-100 letters, digits, ':', '.', '_' or '-' (got {name!r})"
        )
    description = raw.get("description") or ""
    examples = raw.get("examples") or []
    if not isinstance(description, str) or not isinstance(examples, list):
        raise TagDefinitionError(f"{where} ({name}): description must be text and examples a list of texts")
    if not all(isinstance(e, str) for e in examples):
        raise TagDefinitionError(f"{where} ({name}): every example must be text")
    threshold = raw.get("threshold")
    if threshold is not None and (not isinstance(threshold, int | float) or not 0 < threshold < 1):
        raise TagDefinitionError(f"{where} ({name}): threshold must be a number between 0 and 1")
    unknown = set(raw) - {"name", "description", "examples", "threshold"}
    if unknown:
        raise TagDefinitionError(f"{where} ({name}): unknown fields {sorted(unknown)}")
    d = TagDefinition(name, description, tuple(examples), None if threshold is None else float(threshold))
    if not d.texts():
        raise TagDefinitionError(f"{where} ({name}): give a description or examples to match against")
    return d


def load_tag_definitions(path: str | Path) -> tuple[list[TagDefinition], dict[str, Any]]:
    """Read a JSON or YAML tag file; returns the definitions and the file's options
    (``negatives`` and the numbers: ``threshold``, ``margin``, ``gap``, ``problem_penalty``,
    ``want_bonus``, ``english_weight``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = (
            json.loads(text)
            if p.suffix.lower() == ".json"
            else __import__("yaml").safe_load(text)  # YAML is optional: JSON works without it
        )
    except (OSError, UnicodeDecodeError, ValueError, ImportError) as exc:
        raise TagDefinitionError(f"{p}: cannot read tag definitions ({exc})") from None
    except Exception as exc:  # yaml.YAMLError does not derive from ValueError
        raise TagDefinitionError(f"{p}: cannot read tag definitions ({exc})") from None
    if isinstance(data, list):
        data = {"tags": data}
    if not isinstance(data, dict) or not isinstance(data.get("tags"), list) or not data["tags"]:
        raise TagDefinitionError(f'{p}: expected {{"tags": [...]}} with at least one tag')
    defs = [_definition(i, raw, str(p)) for i, raw in enumerate(data["tags"])]
    names = [d.name for d in defs]
    if len(set(names)) != len(names):
        raise TagDefinitionError(f"{p}: duplicate tag names")
    options = {k: data[k] for k in ("negatives", *_NUMERIC) if k in data}
    negatives = options.get("negatives", [])
    if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
        raise TagDefinitionError(f"{p}: negatives must be a list of texts")
    for key in _NUMERIC:
        if key in options and not isinstance(options[key], int | float):
            raise TagDefinitionError(f"{p}: {key} must be a number")
    return defs, options


def _latin(text: str) -> bool:
    return cjk_ratio(text) == 0.0


class _EnglishScores:
    """An English-only model's view of English messages, mapped onto the multilingual model's cosine
    scale through the two models' calibrations (raw cosines of two models are not comparable)."""

    def __init__(self, english: Embedder, base: Embedder) -> None:
        self.english, self.base = english, base
        self._tags: list[npt.NDArray[np.float32] | None] = []
        self._negatives: npt.NDArray[np.float32] | None = None

    def set_tags(self, texts: Sequence[Sequence[str]]) -> None:
        """Embed each tag's English texts (a tag with none keeps the base model's score alone)."""
        self._tags = [
            self.english.encode(en) if (en := [t for t in ts if _latin(t)]) else None for ts in texts
        ]

    def add_negatives(self, texts: Sequence[str]) -> None:
        """Embed the English ones among ``texts`` as negatives."""
        en = [t for t in texts if t.strip() and _latin(t)]
        if en:
            v = self.english.encode(en)
            self._negatives = v if self._negatives is None else np.vstack([self._negatives, v])

    def _on_base_scale(self, cosine: float) -> float:
        c = float(self.english.calibration(np.array([cosine]))[0])
        b = self.base.calibration  # the inverse of its piecewise-linear map
        if c < 0.5:
            return b.floor + c / 0.5 * (b.threshold - b.floor)
        return b.threshold + (c - 0.5) / 0.5 * (b.ceiling - b.threshold)

    def scores(self, text: str) -> tuple[list[float | None], float | None] | None:
        """Per tag the best cosine and the negatives' best, on the base scale; ``None`` unless
        ``text`` is English."""
        if not _latin(text):
            return None
        q = self.english.encode([text])[0]
        tags = [None if v is None else self._on_base_scale(float(np.max(v @ q))) for v in self._tags]
        floor = None if self._negatives is None else self._on_base_scale(float(np.max(self._negatives @ q)))
        return tags, floor


class InterestTagger:
    """Match messages against :class:`TagDefinition` s by embedding similarity (see the module docstring)."""

    def __init__(
        self,
        embedder: Embedder,
        definitions: Sequence[TagDefinition],
        *,
        threshold: float = 0.40,
        margin: float = 0.08,
        gap: float = 0.0,
        problem_penalty: float = 0.20,
        want_bonus: float = 0.05,
        english_weight: float = 0.25,
        negatives: Sequence[str] = (),
        english: Embedder | None = None,
    ) -> None:
        self.embedder = embedder
        self.english_weight = english_weight
        self._english = None if english is None or english_weight <= 0 else _EnglishScores(english, embedder)
        self.definitions = list(definitions)
        self.threshold, self.margin, self.gap = threshold, margin, gap
        self.problem_penalty, self.want_bonus = problem_penalty, want_bonus
        self._texts = [d.texts() for d in self.definitions]
        # A tag about leaving or a problem (churn, closing the account) is worded like a complaint
        # and not like a purchase: the cues say nothing about it.
        self._cue_neutral = [any(ending_cue(t) for t in texts) for texts in self._texts]
        self._vectors = [embedder.encode(t) for t in self._texts]
        self._negatives = embedder.encode(list(negatives)) if negatives else None
        if self._english is not None:
            self._english.set_tags(self._texts)
            self._english.add_negatives(list(negatives))

    def add_service_questions(self, questions: Sequence[str], *, unlike: float = 0.8) -> int:
        """Use the knowledge base's FAQ questions as more negatives; returns how many were taken.

        They are the business's service questions ("Can I set up automatic payments?"), exactly
        what a message mentioning a tag's words without its interest looks like.  A question
        too close to a tag's own texts (cosine >= ``unlike``: the FAQ answers "Can I upgrade to
        Platinum?") is left out, or it would silence that tag.
        """
        qs = [q for q in dict.fromkeys(questions) if q.strip()]
        if not qs:
            return 0
        vecs = self.embedder.encode(qs)
        own = np.vstack(self._vectors) if self._vectors else np.zeros((0, vecs.shape[1]), dtype=vecs.dtype)
        keep = (vecs @ own.T).max(axis=1) < unlike if len(own) else np.ones(len(qs), dtype=bool)
        taken = vecs[keep]
        if len(taken):
            self._negatives = taken if self._negatives is None else np.vstack([self._negatives, taken])
        if self._english is not None:
            self._english.add_negatives([q for q, k in zip(qs, keep, strict=True) if k])
        return int(keep.sum())

    @classmethod
    def from_file(cls, embedder: Embedder, path: str | Path, **overrides: Any) -> InterestTagger:
        """A tagger for the definitions in ``path`` (its options, then ``overrides``)."""
        defs, options = load_tag_definitions(path)
        options.update(overrides)
        return cls(embedder, defs, **options)

    def match(self, text: str) -> list[TagMatch]:
        """The tags ``text`` carries, best first (Traditional characters read as Simplified)."""
        if not text.strip():
            return []
        text = simplified(text)
        q = self.embedder.encode([text])[0]
        floor = float(np.max(self._negatives @ q)) if self._negatives is not None else -1.0
        w = self.english_weight
        english = self._english.scores(text) if self._english is not None else None
        if english is not None and english[1] is not None:
            floor = (1 - w) * floor + w * english[1]
        # Intent or mention (parley.bots.tag_cues): a problem report is rarely an interest, a
        # request to get something usually is; the problem cue wins when both are present.
        problem = problem_cue(text)
        want = not problem and want_cue(text)
        out = []
        for i, (d, texts, vecs, neutral) in enumerate(
            zip(self.definitions, self._texts, self._vectors, self._cue_neutral, strict=True)
        ):
            sims = vecs @ q
            best = int(np.argmax(sims))
            score, cue = float(sims[best]), ""
            if english is not None and (en := english[0][i]) is not None:  # an English message:
                score = (1 - w) * score + w * en  # blend in the English model's view
            if problem and not neutral:
                score, cue = score - self.problem_penalty, "problem"
            elif want and not neutral:
                score, cue = score + self.want_bonus, "want"
            threshold = d.threshold if d.threshold is not None else self.threshold
            if score >= threshold and score - floor >= self.margin:
                confidence = min(1.0, 0.5 + 0.5 * (score - threshold) / max(1e-6, 1.0 - threshold) * 2)
                out.append(TagMatch(d.name, round(score, 4), round(confidence, 3), texts[best], cue))
        out.sort(key=lambda m: -m.score)
        # Tags far below the best one share only the phrasing ("Do you have ..."), not the topic.
        return [m for m in out if m.score >= out[0].score - self.gap]


# -------------------------------------------------------------- evaluation


def evaluate(tagger: InterestTagger, rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, int, int]]:
    """(true positives, predicted, expected) per split, counted over (message, tag) pairs."""
    out: dict[str, tuple[int, int, int]] = {}
    for row in rows:
        got = {m.name for m in tagger.match(str(row["text"]))}
        want = set(row["tags"])
        for key in (str(row["split"]), f"{row['split']}:{row['lang']}"):
            tp, pred, exp = out.get(key, (0, 0, 0))
            out[key] = (tp + len(got & want), pred + len(got), exp + len(want))
    return out


def _pr(tp: int, pred: int, exp: int) -> str:
    p = f"{tp / pred:.2f} ({tp}/{pred})" if pred else "–"
    r = f"{tp / exp:.2f} ({tp}/{exp})" if exp else "–"
    return f"{p} | {r}"


def main(argv: list[str] | None = None) -> None:
    """Print tag precision/recall on the labelled set for a few thresholds."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.tags")
    ap.add_argument("--tags", type=Path, default=DEFAULT_TAGS)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--errors", action="store_true", help="print tuning-split mistakes")
    args = ap.parse_args(argv)
    from parley.bots.knowledge import MultilingualUSEEmbedder

    use = MultilingualUSEEmbedder()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    defs, options = load_tag_definitions(args.tags)
    base = float(options.get("threshold", 0.5))
    plain: dict[str, Any] = {"threshold": base, "negatives": [], **THRESHOLD_ONLY}
    configs: dict[str, InterestTagger] = {
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
        configs[f"default, threshold {base + delta:.2f}"] = InterestTagger(
            use, defs, **{**options, "threshold": base + delta}
        )
    print(
        "| configuration | split | precision | recall | EN precision | EN recall | ZH precision | ZH recall |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, tagger in configs.items():
        res = evaluate(tagger, rows)
        for split in ("tune", "holdout"):
            cells = [_pr(*res.get(k, (0, 0, 0))) for k in (split, f"{split}:en", f"{split}:zh")]
            print(f"| {name} | {split} | " + " | ".join(cells) + " |")
    if args.errors:
        tagger = InterestTagger(use, defs, **options)
        for row in rows:
            if row["split"] != "tune":
                continue
            got = tagger.match(row["text"])
            if {m.name for m in got} != set(row["tags"]):
                print("MISS", row["text"], row["tags"], [(m.name, m.score, m.matched) for m in got])


if __name__ == "__main__":
    main()
