"""The sensitive-word matcher: pure code, no I/O (the per-app lists live in the store; see
:mod:`parley.server.services.words`).

Text and words are compared in a normal form: NFKC (full-width letters and digits become
ASCII, an ideographic space a space, compatibility forms their plain letters), case folded,
zero-width and other format characters (Unicode category Cf) dropped — so ``ＡＳＳ``,
``Ass`` and ``a\\u200bss`` all read ``ass``. One Aho–Corasick automaton over every word
of the app (pyahocorasick, in C) finds all occurrences in one pass, which is what
unsegmented Chinese needs: there are no spaces to split on, so words are substrings.

Latin-script words (and any script written with spaces) must stand alone: a match whose
first (last) character is a word character needs a non-word character, or the text's edge,
before (after) it — ``ass`` matches in "you ass!" but not in "class". Chinese, Japanese kana
and the like are never word characters here, so Chinese words match anywhere and an
English word written right next to Chinese characters still matches.

Matches are reported in the caller's original string positions (normalisation may change
lengths), so masking replaces exactly the characters that were written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick  # type: ignore[import-not-found]

__all__ = ["Hit", "WordMatcher", "normalize"]


def _unsegmented(c: str) -> bool:
    """Scripts written without spaces between words: matched as plain substrings."""
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3400 <= o <= 0x4DBF  # CJK extension A
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= o <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= o <= 0x3FFFF  # CJK extensions B…
        or 0x0E00 <= o <= 0x0EFF  # Thai, Lao
    )


def _word_char(c: str) -> bool:
    return (c.isalnum() or c == "_") and not _unsegmented(c)


#: The format characters (Unicode category Cf, e.g. zero-width spaces) of Unicode 14/15:
#: a text without any, already in NFKC, takes the fast path of :func:`normalize`.
#: ``tests/server/test_wordfilter.py`` checks this against the running Python's database.
FORMAT_CHARS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _fold_cluster(cluster: str) -> str:
    folded = unicodedata.normalize("NFKC", cluster).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


@functools.lru_cache(maxsize=1 << 16)
def _fold(char: str) -> tuple[str, bool]:
    """One character's normal form, and whether it is a combining mark (memoised: text
    repeats the same few thousand characters)."""
    return _fold_cluster(char), unicodedata.combining(char) != 0


def normalize(text: str) -> tuple[str, list[int]]:
    """``text`` in the normal form, and for each of its characters the index of the original
    character it came from (non-decreasing). A base character and the combining marks after
    it are normalised together, so composed and decomposed accents agree."""
    # Fast path (most messages): nothing to drop, NFKC already, and case folding maps each
    # character to exactly one (it never maps one to none, so equal lengths mean one to one).
    if (text.isascii() or unicodedata.is_normalized("NFKC", text)) and not FORMAT_CHARS.search(text):
        folded = text.casefold()
        if len(folded) == len(text):
            return folded, list(range(len(text)))
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(text)
    while i < n:
        folded, _ = _fold(text[i])
        j = i + 1
        if j < n and _fold(text[j])[1]:  # combining marks follow: normalise them together
            while j < n and _fold(text[j])[1]:
                j += 1
            folded = _fold_cluster(text[i:j])
        out.append(folded)
        origin += [i] * len(folded)
        i = j
    return "".join(out), origin


@dataclass(frozen=True, slots=True)
class Hit:
    """A listed word found at ``text[start:end]`` (original positions); ``key`` is what the
    word was registered with (e.g. its list)."""

    start: int
    end: int
    word: str
    key: Any


class WordMatcher:
    """All of an app's words in one automaton. Build once per change of the lists; ``find``
    and ``mask`` are then safe to call from any number of requests."""

    def __init__(self, words: Iterable[tuple[str, Any]]) -> None:
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, Any]]] = {}
        for word, key in words:
            norm, _ = normalize(word)
            norm = norm.strip()
            if norm:
                entries.setdefault(norm, []).append((word, key))
        for norm, keys in entries.items():
            self._automaton.add_word(norm, (norm, keys))
        self._empty = not entries
        if not self._empty:
            self._automaton.make_automaton()

    def __bool__(self) -> bool:
        return not self._empty

    def find(self, text: str) -> list[Hit]:
        """Every occurrence of a listed word, in order of position (then of registration)."""
        if self._empty or not text:
            return []
        norm, origin = normalize(text)
        hits: list[Hit] = []
        for last, (word, keys) in self._automaton.iter(norm):
            first = last - len(word) + 1
            if _word_char(word[0]) and first > 0 and _word_char(norm[first - 1]):
                continue
            if _word_char(word[-1]) and last + 1 < len(norm) and _word_char(norm[last + 1]):
                continue
            start = origin[first]
            # One original character may expand to several (ﬁ → fi): keep at least it.
            end = max(origin[last + 1] if last + 1 < len(norm) else len(text), origin[last] + 1)
            # Characters dropped after the word (zero-width ones) are not part of it.
            while end > start + 1 and unicodedata.category(text[end - 1]) == "Cf":
                end -= 1
            hits += [Hit(start, end, w, key) for w, key in keys]
        hits.sort(key=lambda h: (h.start, h.end))
        return hits

    def mask(self, text: str, hits: list[Hit] | None = None, char: str = "*") -> str:
        """``text`` with every character of every match replaced by ``char``."""
        found = self.find(text) if hits is None else hits
        if not found:
            return text
        chars = list(text)
        for h in found:
            for i in range(h.start, h.end):
                chars[i] = char
        return "".join(chars)
