"""Typo repair of English query words towards the knowledge base's own vocabulary.

Customers type "cancle my membrship", "reschedual my apointment": BM25 sees no shared word, the
English model sees other subwords, and the answer is lost or handed over.  Correcting towards a
general dictionary is not what retrieval needs — "teath" is closer to the commoner "death" than
to "teeth", and "wechat" or "fapiao" would become English words — so a word is repaired only when

1. it is not an English word (the word list shipped with ``symspellpy``, 82 765 words) and not
   a word of the knowledge base — a brand ("Kestrel"), a loan word ("fapiao"), a name stays;
2. it has five letters or more (one edit in "yall" or "mapo" is a quarter of the word: "call",
   "map"), and a word of the knowledge base lies within one edit (two for words of nine letters
   or more; a transposition counts as one), found by SymSpell over the knowledge base's words.

Ties go to the word the knowledge base uses most.  Chinese has no spelling in the sense of
letters; its typos are homophones picked by the input method, repaired by :mod:`.homophones`
(session 19) in the same pass, after written Cantonese is put in Mandarin words (:mod:`.cantonese`).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections import Counter
from collections.abc import Iterable

from symspellpy import SymSpell, Verbosity

from .cantonese import mandarin
from .homophones import HomophoneRepair
from .langs import cjk_ratio, simplified

__all__ = ["QuerySpeller", "english_words"]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?", re.I)
#: Shorter words are left alone: one edit is too large a share of them ("yall" → "call").
_MIN_LEN = 5
#: From this length on, two edits are allowed ("reschedual" → "reschedule").
_TWO_EDITS = 9


@functools.cache
def english_words() -> frozenset[str]:
    """The English word list shipped with ``symspellpy`` (read once per process, immutable)."""
    path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    with path.open(encoding="utf-8") as f:
        return frozenset(line.split(" ", 1)[0] for line in f if line.strip())


class QuerySpeller:
    """Repairs a query's misspelt English words towards ``vocabulary`` (see the module docstring)
    and, given ``homophones``, its Chinese homophone typos."""

    def __init__(self, vocabulary: Iterable[str], homophones: HomophoneRepair | None = None) -> None:
        self._homophones = homophones
        self._known = english_words()
        counts = Counter(w.lower() for w in vocabulary if w.isascii() and w.isalpha() and len(w) >= 3)
        self._kb = frozenset(counts)
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, n in counts.items():
            self._symspell.create_dictionary_entry(word, n)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> QuerySpeller:
        """A speller over the English words and the Chinese words of ``texts`` (the knowledge base's chunks)."""
        texts = list(texts)
        return cls((w for t in texts for w in _WORD.findall(t)), HomophoneRepair.from_texts(texts))

    def correct_word(self, word: str) -> str:
        """``word`` repaired, or unchanged when it is known or nothing in the vocabulary is close."""
        low = word.lower()
        stem = low[:-2] if low.endswith("'s") else low
        if len(stem) < _MIN_LEN or stem in self._known or stem in self._kb:
            return word
        found = self._symspell.lookup(
            stem, Verbosity.TOP, max_edit_distance=1 if len(stem) < _TWO_EDITS else 2
        )
        return found[0].term + low[len(stem) :] if found else word

    def correct(self, text: str) -> str:
        """``text`` with each misspelt English word and Chinese homophone typo repaired, and written
        Cantonese in Mandarin words (:mod:`.cantonese`, before the homophones: 冇 is no typo)."""
        text = _WORD.sub(lambda m: self.correct_word(m.group()), text)
        if cjk_ratio(text):
            folded = simplified(text)
            if (spoken := mandarin(folded)) != folded:
                text = spoken
        return text if self._homophones is None else self._homophones.correct(text)
