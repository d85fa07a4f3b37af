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


def normalize(text: str) -> tuple[str, list[int]]:
    """``text`` in the normal form, and for each of its characters the index of the original
    character it came from (non-decreasing). A base character and the combining marks after
    it are normalised together, so composed and decomposed accents agree."""
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        folded = unicodedata.normalize("NFKC", text[i:j]).casefold()
        for ch in folded:
            if unicodedata.category(ch) != "Cf":
                out.append(ch)
                origin.append(i)
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
