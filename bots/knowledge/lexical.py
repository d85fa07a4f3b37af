"""Lexical retrieval: BM25 over English words and jieba-segmented Chinese.

BM25 catches what embeddings blur — exact product words, numbers, names like 顺丰 or
PayPal — and it is the only signal that knows Chinese word boundaries.  Scores are
normalised by the best score the query could reach (every term at saturation), so they
fall in 0..1 and can be compared across queries, which the answer/hand-over decision
needs.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .langs import simplified

__all__ = ["BM25Index", "shared_jieba", "tokenize"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Words that carry no topic in a customer message; BM25's idf is unreliable on a small
# knowledge base, so the commonest fillers are dropped outright.
_EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "u",
        "ur",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "pls",
        "please",
        "plz",
        "hi",
        "hey",
        "hello",
        "hiya",
        "thanks",
        "thank",
        "just",
        "so",
        "very",
        "really",
        "any",
        "some",
        "get",
        "got",
        "im",
        "i'm",
        "i'd",
        "i've",
        "it's",
        "don't",
        "dont",
        "can't",
        "cant",
        "not",
        "no",
        "yes",
        "ok",
        "okay",
        "want",
        "wanna",
        "gonna",
        "need",
        "like",
        "still",
        "one",
    ]
)
_ZH_STOP = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "呀",
        "么",
        "嘛",
        "哦",
        "我",
        "你",
        "您",
        "他",
        "她",
        "们",
        "我们",
        "你们",
        "是",
        "在",
        "有",
        "和",
        "就",
        "都",
        "也",
        "还",
        "要",
        "想",
        "请",
        "问",
        "一下",
        "这个",
        "那个",
        "这",
        "那",
        "怎么",
        "怎么样",
        "怎样",
        "什么",
        "哪些",
        "多少",
        "可以",
        "能",
        "能不能",
        "吗",
        "亲",
        "好",
        "不",
    ]
)

#: Whether Chinese words also contribute their characters as terms (measured in the eval).
CHAR_UNIGRAMS = True

_jieba_lock = threading.Lock()
_jieba_ready = False


def shared_jieba() -> Any:
    """The jieba module, initialised once per process (its dictionary loads in about a second)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def _cut_chinese_words(text: str) -> list[str]:
    """jieba's precise segmentation of the Chinese runs of ``text`` (each word once, no sub-words)."""
    jieba = shared_jieba()
    return [w for run in _CJK_RUN.findall(text) for w in jieba.lcut(run) if w.strip()]


def _cut_chinese(run: str, chars: bool = True) -> list[str]:
    jieba = shared_jieba()
    # Search mode also emits the sub-words of long words (专用发票 → 专用, 发票, 专用发票),
    # so a question and an answer that segment differently still share terms.
    words = [t for t in jieba.lcut_for_search(run) if t.strip()]
    if not CHAR_UNIGRAMS or not chars:
        return words
    # Single characters too: colloquial questions shorten words ("能退吗" for 退货), and a
    # shared character is weak evidence that idf keeps weak.
    return words + [ch for w in words if len(w) > 1 for ch in w]


def _stem(word: str) -> str:
    # A deliberately tiny stemmer: plural and common verb endings only. Enough for
    # "refunds"/"refund", "shipping"/"ship"; a real stemmer is not worth a dependency.
    for suffix, keep in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ss", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + keep
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2]:
                base = base[:-1]  # shipping → shipp → ship
            return base
    return word


def tokenize(text: str, *, chars: bool = True) -> list[str]:
    """Lower-cased, lightly stemmed English words and jieba words for Chinese runs, stopwords removed
    (and, with ``chars``, the characters of Chinese words too)."""
    text = simplified(unicodedata.normalize("NFKC", text)).lower()
    tokens: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(text):
        tokens.extend(_latin(text[pos : m.start()]))
        tokens.extend(t for t in _cut_chinese(m.group(), chars) if t not in _ZH_STOP)
        pos = m.end()
    tokens.extend(_latin(text[pos:]))
    return tokens


def _latin(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text) if w not in _EN_STOP]


class BM25Index:
    """Okapi BM25 over a fixed list of texts (rebuild to change it; building is cheap).

    Postings are numpy arrays per term, so a query costs one vectorised update per query
    term rather than a loop over documents.
    """

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75, chars: bool = True) -> None:
        """``chars=False``: Chinese words only, no single characters (for dictionary glosses, whose
        words are dictionary words and whose characters would match anything)."""
        self.k1, self.b, self.chars = k1, b, chars
        docs = [tokenize(t, chars=chars) for t in texts]
        self.size = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        self._norm = k1 * (1 - b + b * lengths / avg)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, d in enumerate(docs):
            for term, tf in Counter(d).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(tf)
        self._postings = {t: (np.array(i), np.array(f, dtype=np.float64)) for t, (i, f) in postings.items()}
        self._idf = {t: self._idf_of(len(i)) for t, (i, _) in postings.items()}
        # An unseen query term is as specific as a term in no document.
        self._idf_unseen = self._idf_of(0)

    def _idf_of(self, df: int) -> float:
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> npt.NDArray[np.float64]:
        """Normalised BM25 score (0..1) of every text for ``query``."""
        out = np.zeros(self.size, dtype=np.float64)
        terms = set(tokenize(query, chars=self.chars))
        if not terms or not self.size:
            return out
        best = 0.0
        for term in terms:
            idf = self._idf.get(term)
            if idf is None:
                best += self._idf_unseen * (self.k1 + 1)
                continue
            best += idf * (self.k1 + 1)
            ids, tfs = self._postings[term]
            out[ids] += idf * tfs * (self.k1 + 1) / (tfs + self._norm[ids])
        return out / best
