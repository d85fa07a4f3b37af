"""Repair of Chinese homophone typos towards the knowledge base's own words.

Chinese is typed through a pinyin input method, so a slip picks a character that *sounds* like the
meant one: 发漂 for 发票, 预越 for 预约, 冲值 for 充值, 保休 for 保修.  Neither the lexical index
(no shared word) nor the multilingual model (another token) recognises the word, and the entry is
lost.  Correcting against a general dictionary would be guesswork; the knowledge base says which
words this business uses, so a pair of characters is repaired only when

1. jieba cuts both as words of one character (HMM off: an unknown pair is not glued into a new
   "word") — a pair that is part of a real word ("自己在", "去消协") is left alone;
2. the pair is neither a dictionary word (jieba's 350 000) nor a word of the knowledge base, and
   holds no particle, copula or Cantonese function character ("号吗", "插咗", "想同", 老是 —
   "always", missing from the dictionary — is not 老师);
3. a two-character word of the knowledge base (one of jieba's dictionary words, sub-words of
   longer words included: 会议 from 会议室; or a pair jieba cuts as a word at least twice in the
   knowledge base though its dictionary lacks it: 试课, 地锁) reads the same in pinyin without
   tones and shares one of the two characters in its place;
4. the character to change makes no dictionary word with its neighbour outside the pair: in
   "你们有笑气吗" 有笑 sounds like 有效, but 笑气 is a word.

Ties go to the word the knowledge base uses most, then the commoner word.  Over the 35
development sets' 2440 messages and 1468 tag messages this changes 30 characters in 27 messages,
every one of them a message its writer labelled a typo (of 53 Chinese typo messages), and nothing
else.  The knowledge base's own words outside the dictionary (session 21) add two more over the
39 sets, both labelled typos: 实课 → 试课, 地所 → 地锁.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from pypinyin import lazy_pinyin

from .langs import simplified
from .lexical import shared_jieba

__all__ = ["HomophoneRepair"]

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
#: Particles and function characters (Mandarin and Cantonese) never stand in a typo of a content word.
_FUNCTION = frozenset("的了是吗呢嘅咗啊呀吧嘛个同得么哦喔噢哈啦咯嗎係唔冇佢哋喺")


class HomophoneRepair:
    """Repairs homophone typos in a query's Chinese towards ``words`` (see the module docstring)."""

    def __init__(self, words: Counter[str]) -> None:
        jieba = shared_jieba()
        self._freq: dict[str, int] = jieba.dt.FREQ
        self._kb = frozenset(words)
        by_sound: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for word in sorted(words, key=lambda w: (-words[w], -self._freq.get(w, 0), w)):
            by_sound[tuple(lazy_pinyin(word))].append(word)
        self._by_sound = dict(by_sound)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> HomophoneRepair:
        """A repairer over the two-character words of ``texts`` (the knowledge base): dictionary
        words, and words the dictionary lacks that the knowledge base uses twice or more (one use
        may itself be a slip)."""
        jieba = shared_jieba()
        freq = jieba.dt.FREQ
        words: Counter[str] = Counter(
            w
            for t in texts
            for run in _HAN_RUN.findall(simplified(t))
            for w in jieba.lcut_for_search(run)
            if len(w) == 2
        )
        return cls(Counter({w: n for w, n in words.items() if freq.get(w) or n >= 2}))

    def _meant(self, pair: str) -> str | None:
        if self._freq.get(pair) or pair in self._kb or _FUNCTION.intersection(pair):
            return None
        for word in self._by_sound.get(tuple(lazy_pinyin(pair)), ()):
            if word[0] == pair[0] or word[1] == pair[1]:
                return word
        return None

    def _word_outside(self, run: str, i: int, meant: str) -> bool:
        """Whether a character to be changed makes a word with its neighbour outside the pair:
        in "有笑气", 有笑 sounds like 有效 but 笑气 is a word, so 笑 stays."""
        left = run[i - 1 : i + 1] if i > 0 and meant[0] != run[i] else ""
        right = run[i + 1 : i + 3] if meant[1] != run[i + 1] else ""
        return any(len(pair) == 2 and self._freq.get(pair) for pair in (left, right))

    def _repair_run(self, run: str) -> str:
        singles, at = set(), 0
        for token in shared_jieba().lcut(run, HMM=False):
            if len(token) == 1:
                singles.add(at)
            at += len(token)
        chars, i = list(run), 0
        while i < len(run) - 1:
            meant = self._meant(run[i : i + 2]) if {i, i + 1} <= singles else None
            if meant is not None and not self._word_outside(run, i, meant):
                chars[i : i + 2] = meant
                i += 2
            else:
                i += 1
        return "".join(chars)

    def correct(self, text: str) -> str:
        """``text`` with each homophone typo repaired; Traditional text is repaired in Simplified."""
        if not self._by_sound or not _HAN_RUN.search(text):
            return text
        folded = simplified(text)
        repaired = _HAN_RUN.sub(lambda m: self._repair_run(m.group()), folded)
        return text if repaired == folded else repaired
