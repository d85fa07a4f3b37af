"""Explainable sentiment of customer messages, offline, for English, Chinese and both mixed.

A lexicon scorer with four rules, so every decision can be read back as the words that
made it (:attr:`Sentiment.evidence`):

1. The text (Traditional characters folded to Simplified) is split into units — lowercased
   English words and single Chinese characters (punctuation kept as clause breaks) — and lexicon terms (``"fed up"``, ``"不错"``,
   ``"烦死"``: exasperation, milder than 气死) are matched longest first (``不错`` is one term).
2. **Negation**: a negator (``not``, ``isn't``, ``no``, ``never``, ``can't``; 不 没 别 无 未)
   in the three units before a term, within the clause, flips it: a negated positive counts
   ``-0.8 x`` ("not happy", "不满意"), a negated negative ``+0.75 x`` ("not bad", "不差",
   "no complaints": mildly positive, as people mean it) — except a disclaimer ("not a
   complaint", 不是投诉: neutral, ``sentiment_lexicon.NEGATED_NEUTRAL``).  Emoji with one reading
   (😩 🙄 😭, 👍 🎉) are terms too, but never negated, one mild term at most together, and never
   what moves a message across the strongly-negative line.
3. **Intensifiers** in the same window (very, so, really, 太, 很, 非常, 真...) multiply by
   1.5 (好 before a negative term is "very": 好烦); ``!!``/``？？`` strengthen a negative message by 1.2; a hypothetical ("if", 如果,
   万一) halves negative terms ("what if the parcel is damaged?" is a question, not a complaint).
4. **Trouble**: a message that describes a bad situation calmly ("my order hasn't arrived",
   会员卡丢了 — :mod:`parley.bots.trouble`) and is not already negative gets ``-0.75``: mildly
   negative, never strong, and flagged (:attr:`Sentiment.trouble`) so the bot's "negative in a
   row" hand-over counts only tone.  With a trained ``model`` (:mod:`parley.bots.sentiment_model`),
   a message in which no tone word fires is first read by the model: at ``P(negative) >=
   model_at`` it is a described situation in the same way, whatever words it uses.

The sum is the score: ``<= -0.75`` negative, ``>= 0.75`` positive, else neutral;
``<= -2`` is *strongly* negative (the bot hands over at once). Accuracy on
``tests/data/sentiment_eval.jsonl`` is in ``docs/BOT_QUALITY.md``; reproduce with
``python -m parley.bots.sentiment``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from parley.bots.knowledge.cantonese import mandarin
from parley.bots.knowledge.embedders import Embedder, Vector
from parley.bots.knowledge.langs import simplified
from parley.bots.sentiment_lexicon import EXAMPLES, LEXICON, NEGATED_NEUTRAL
from parley.bots.sentiment_model import SentimentModel
from parley.bots.trouble import trouble_cues

__all__ = ["EXAMPLES", "LEXICON", "Sentiment", "SentimentScorer", "bot_scorer", "evaluate", "main"]

Label = Literal["negative", "neutral", "positive"]


_NEGATORS = frozenset(
    "not no never isn't isnt aren't wasn't weren't don't dont doesn't didn't can't cant cannot "
    "won't wouldn't hardly without 不 没 别 无 未".split()
)
_INTENSIFIERS = frozenset(
    "very so really absolutely extremely super totally too completely utterly 太 很 真 超 特 挺 好".split()
)
_MULTI_INTENSIFIERS = ("非常", "特别", "十分", "实在")
_NOT_NEGATION = ("不然", "要不", "不管", "不过", "不但", "不仅", "不少", "无论")
_A_NOT_A = re.compile(r"([\u3400-\u9fff]) [不没] \1(?= |$)")
_HYPOTHETICAL = re.compile(r"\b(?:if|what if|in case)\b|如果|万一|假如|要是")
#: Pictographs and symbols: an emoji is a unit of its own, like a Chinese character.
_EMOJI_CHARS = r"[\U0001F300-\U0001FAFF\u2600-\u27BF]"
_UNIT = re.compile(rf"[a-z0-9]+(?:'[a-z]+)?|[\u3400-\u9fff]|{_EMOJI_CHARS}|[.,;:!?。，；：！？、\n]")
_EMOJI = re.compile(_EMOJI_CHARS)
_DISCLAIMER = "[negated:disclaimer]"
_BREAK = frozenset(".,;:!?。，；：！？、\n")
_WINDOW = 3
#: Thanks that close a message after something else is courtesy, not praise: "转人工客服，谢谢",
#: "please have someone call me back, thanks" (labelled neutral 11 times in 12 on the development
#: sets).  "谢谢！" alone, and thanks that open or carry a message ("thanks, that fixed it"), count.
_COURTESY = frozenset({("thanks",), ("thank", "you"), ("谢", "谢"), ("多", "谢"), ("感", "谢")})


def _units(text: str) -> list[str]:
    return _UNIT.findall(text.lower().replace("’", "'"))


def _term_units(term: str) -> tuple[str, ...]:
    return tuple(_units(term))


@dataclass(frozen=True, slots=True)
class Sentiment:
    """The sentiment of one message: ``label``, the summed ``score``, and the terms behind it."""

    label: Label
    score: float
    strong: bool
    evidence: tuple[str, ...] = ()
    #: Negative only because the message describes trouble (:mod:`parley.bots.trouble`), not
    #: because of how it is said: such a message does not count towards "negative in a row".
    trouble: bool = False
    #: The part of ``score`` that comes from described trouble (``-0.75`` or ``0``).
    situation: float = 0.0

    @property
    def tone(self) -> float:
        """The score from how the message is said, without the situation it describes."""
        return round(self.score - self.situation, 3)

    @property
    def upset(self) -> bool:
        """Negative in tone (not only in situation): what the hand-over on sentiment counts."""
        return self.label == "negative" and not self.trouble

    @property
    def confidence(self) -> float:
        """0.5..1: how far the score is past the label's threshold (neutral: how close to 0)."""
        if self.label == "neutral":
            return round(max(0.5, 1.0 - abs(self.score) / 1.5), 3)
        return round(min(1.0, 0.5 + (abs(self.score) - 0.75) / 2.5), 3)


class SentimentScorer:
    """Lexicon + negation + intensifier rules (see the module docstring).

    ``negative_at``/``positive_at`` are the label thresholds, ``strong_at`` the score from
    which a message alone is clearly negative. Pass ``lexicon`` to extend or replace terms.
    """

    def __init__(
        self,
        lexicon: Mapping[str, float] | None = None,
        *,
        negative_at: float = -0.75,
        positive_at: float = 0.75,
        strong_at: float = -2.0,
        embedder: Embedder | None = None,
        examples: Mapping[str, Sequence[str]] | None = None,
        vote_threshold: float = 0.45,
        vote_margin: float = 0.05,
        model: SentimentModel | None = None,
        model_at: float = 0.6,
    ) -> None:
        self.lexicon = {_term_units(t): w for t, w in (lexicon or LEXICON).items()}
        self.max_len = max(len(k) for k in self.lexicon)
        self.negative_at, self.positive_at, self.strong_at = negative_at, positive_at, strong_at
        self.embedder = embedder
        self.vote_threshold, self.vote_margin = vote_threshold, vote_margin
        self._bank: dict[str, Any] = {}
        if model is not None and (embedder is None or embedder.name != model.embedder):
            raise ValueError(f"the sentiment model reads {model.embedder} vectors; pass that embedder")
        self.model, self.model_at = model, model_at
        if embedder is not None:
            for label, texts in (examples or EXAMPLES).items():
                self._bank[label] = embedder.encode(list(texts))

    def _vote(self, q: Vector) -> tuple[Label, float] | None:
        """Nearest-example vote for the message's vector ``q``: mean of the 3 best cosines per
        label; None when unsure."""
        means = {label: float(np.mean(np.sort(bank @ q)[-3:])) for label, bank in self._bank.items()}
        ranked = sorted(means.items(), key=lambda kv: -kv[1])
        (best, top), (_, second) = ranked[0], ranked[1]
        if top < self.vote_threshold or top - second < self.vote_margin or best == "neutral":
            return None
        return cast(Label, best), round(top, 3)

    def score(self, text: str) -> Sentiment:
        """Score one message."""
        # Cantonese in Mandarin words (冇人理 → 没有人理, 唔 → 不), so one lexicon and one set of
        # cues read both; the model and the vote read the message as written, as they were fitted.
        written = simplified(text)
        text = mandarin(written)
        units = _units(text)
        hypothetical = bool(_HYPOTHETICAL.search(text.lower()))
        total, evidence = 0.0, []
        emoji = 0.0
        i = 0
        while i < len(units):
            match = next(
                (
                    n
                    for n in range(min(self.max_len, len(units) - i), 0, -1)
                    if tuple(units[i : i + n]) in self.lexicon
                ),
                0,
            )
            if not match:
                i += 1
                continue
            term = tuple(units[i : i + match])
            weight = self.lexicon[term]
            if term in _COURTESY and _closing(units, i, match):
                evidence.append(f"{''.join(term) if _cjk(term) else ' '.join(term)}[closing](+0.00)")
                i += match
                continue
            if term == ("好",) and self._negative_next(units, i + 1):
                i += 1  # 好 before a negative term means "very" (好烦, 好慢), not "good"
                continue
            if weight and _EMOJI.fullmatch(term[0]):
                # An emoji shows a feeling but is never negated ("no lift 😩"), intensified or doubled.
                emoji += weight
                evidence.append(f"{term[0]}({weight:+.2f})")
            elif weight:
                # A disclaimer ("not a complaint") scores 0 but is the customer's own word on the
                # tone: the model is not asked what the message's complaint words describe.
                value, how = self._apply_rules(weight, _window(units, i, _WINDOW + 1), hypothetical, term)
                total += value
                evidence.append(f"{''.join(term) if _cjk(term) else ' '.join(term)}{how}({value:+.2f})")
            i += match
        # Emoji together count as one mild term at most, and move the score but never across the
        # strong line, either way: the words decide whether a message alone hands over.
        emoji = max(-1.0, min(1.0, emoji))
        words, total = total, total + emoji
        if total < 0 and re.search(r"[!?！？]{2,}", text):
            words, total = words * 1.2, total * 1.2
            evidence.append("!!(x1.2)")
        if (words <= self.strong_at) != (total <= self.strong_at):
            total = self.strong_at if words <= self.strong_at else self.strong_at + 0.25
        described = 0.0
        # Without a tone word the message is embedded once, for the model and the vote alike.
        q = self.embedder.encode([written])[0] if not evidence and self.embedder is not None else None
        if q is not None and self.model is not None:
            # No tone word: what the message describes, as the trained model reads it, is a
            # situation like a trouble cue — labelled, but not tone (sentiment_model docstring).
            p = self.model.negative(q)
            if p >= self.model_at:
                described = -0.75
                evidence.append(f"model:negative({p:.2f})")
        if q is not None and not evidence:
            vote = self._vote(q)
            if vote is not None:
                # Counts as one mild term of that polarity: never strong on its own.
                total = -1.0 if vote[0] == "negative" else 1.0
                evidence.append(f"~{vote[0]} examples({vote[1]:.2f})")
        trouble = bool(described) or (total > self.negative_at and bool(cues := trouble_cues(text)))
        if described:
            total += described
        elif trouble:
            # A described situation makes a message mildly negative, never more (module docstring).
            total -= 0.75
            evidence.append(f"trouble:{'/'.join(cues)}")
        total = round(total, 3)
        label: Label = (
            "negative"
            if total <= self.negative_at
            else "positive"
            if total >= self.positive_at
            else "neutral"
        )
        return Sentiment(
            label,
            total,
            total <= self.strong_at,
            tuple(evidence),
            trouble and label == "negative",
            -0.75 if trouble else 0.0,
        )

    def _negative_next(self, units: list[str], i: int) -> bool:
        return any(
            self.lexicon.get(tuple(units[i : i + n]), 0.0) < 0
            for n in range(1, min(self.max_len, len(units) - i) + 1)
        )

    @staticmethod
    def _apply_rules(
        weight: float, window: list[str], hypothetical: bool, term: tuple[str, ...] = ()
    ) -> tuple[float, str]:
        # ``window`` holds one unit more than negation reaches, to see a whole A-not-A (会不会慢).
        wide, window = window, window[-_WINDOW:]
        joined = "".join(window)
        multi = [m for m in _MULTI_INTENSIFIERS if m in joined]
        # 非常 is an intensifier, not the negator 非; 不然 "otherwise", 不过 "but", 不少 "many" … hold
        # 不 without negating: "不然就投诉" threatens a complaint.
        spaced = " ".join(wide)
        for m in (*multi, *_NOT_NEGATION):
            spaced = spaced.replace(" ".join(m), " ")
        # A-not-A asks (是不是骗钱 "is it a scam?", 会不会慢, 有没有坏): it negates nothing.
        spaced = _A_NOT_A.sub(" ", spaced)
        negated = any(u in _NEGATORS for u in spaced.split()[-_WINDOW:])
        intense = bool(multi) or any(u in _INTENSIFIERS for u in window)
        how = ""
        value = weight
        if negated and "".join(term) in NEGATED_NEUTRAL:
            return 0.0, _DISCLAIMER
        if negated:
            value = -0.8 * weight if weight > 0 else -0.75 * weight
            how += "[negated]"
        if intense:
            value *= 1.5
            how += "[intensified]"
        if hypothetical and value < 0:
            value *= 0.5
            how += "[hypothetical]"
        return value, how


def bot_scorer(embedder: Embedder) -> SentimentScorer:
    """The bot's scorer: rules, example vote and the shipped model (``embedder``: multilingual USE)."""
    return SentimentScorer(embedder=embedder, model=SentimentModel.load())


def _closing(units: list[str], i: int, n: int) -> bool:
    """Whether the ``n`` units at ``i`` end the message (punctuation and emoji aside) after
    something that is not punctuation."""
    rest = units[i + n :]
    return all(u in _BREAK or _EMOJI.fullmatch(u) for u in rest) and any(u not in _BREAK for u in units[:i])


def _window(units: list[str], i: int, size: int = _WINDOW) -> list[str]:
    out: list[str] = []
    for u in reversed(units[max(0, i - size) : i]):
        if u in _BREAK:
            break
        out.insert(0, u)
    return out


def _cjk(units: Iterable[str]) -> bool:
    return all("\u3400" <= u[0] <= "\u9fff" for u in units)


# -------------------------------------------------------------- evaluation

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "sentiment_eval.jsonl"


def evaluate(scorer: SentimentScorer, rows: list[dict[str, str]]) -> dict[str, tuple[int, int]]:
    """Correct/total per ``<split>`` and ``<split>:<lang>``; also prints nothing."""
    out: dict[str, tuple[int, int]] = {}
    for row in rows:
        ok = scorer.score(row["text"]).label == row["label"]
        for key in (row["split"], f"{row['split']}:{row['lang']}", "all"):
            right, total = out.get(key, (0, 0))
            out[key] = (right + ok, total + 1)
    return out


def main(argv: list[str] | None = None) -> None:
    """Print sentiment accuracy on the labelled set (``--errors`` lists the tuning-split misses)."""
    ap = argparse.ArgumentParser(prog="python -m parley.bots.sentiment")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--errors", action="store_true", help="print tuning-split misses")
    ap.add_argument("--no-embeddings", action="store_true", help="lexicon only (no USE model)")
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    configs = {"lexicon + rules": SentimentScorer()}
    if not args.no_embeddings:
        from parley.bots.knowledge import MultilingualUSEEmbedder

        configs["lexicon + rules + USE example vote"] = SentimentScorer(embedder=MultilingualUSEEmbedder())
    print("| configuration | split | English | Chinese | code-mixed | all |\n|---|---|---|---|---|---|")
    for name, scorer in configs.items():
        res = evaluate(scorer, rows)
        for split in ("tune", "holdout", "fresh"):
            cells = []
            for lang in ("en", "zh", "mixed", None):
                right, total = res.get(f"{split}:{lang}" if lang else split, (0, 0))
                cells.append(f"{right / total:.2f} ({right}/{total})" if total else "–")
            print(f"| {name} | {split} | " + " | ".join(cells) + " |")
    if args.errors:
        for row in rows:
            s = scorer.score(row["text"])
            if row["split"] == "tune" and s.label != row["label"]:
                print(f"MISS want={row['label']} got={s.label} {s.score:+.2f} {row['text']} {s.evidence}")


if __name__ == "__main__":
    main()
