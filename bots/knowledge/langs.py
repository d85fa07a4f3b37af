"""Cheap language detection for routing (Chinese, English or mixed) and script folding.

The hand-over rules, the sentiment lexicon and the lexical index are written in Simplified
characters; a Hong Kong or Taiwan customer writes Traditional ("唔該轉人工", "氣死我了").
:func:`simplified` folds Traditional to Simplified with OpenCC's tables, which are phrase-aware
(乾淨 becomes 干净 while 乾隆 keeps its 乾), so a rule matches whichever script the customer
types.  The multilingual model embeds folded text too (knowledge base and questions alike), so a
Traditional question meets a Simplified entry, and a business may publish in either script.
Simplified text is never rewritten (see :func:`simplified`).  A customer who writes Traditional
gets the reply in Traditional (:func:`in_script_of`).
"""

from __future__ import annotations

import functools
import re

import opencc

__all__ = [
    "cjk_ratio",
    "detect_lang",
    "in_script_of",
    "reply_lang",
    "simplified",
    "traditional",
    "writes_traditional",
]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def cjk_ratio(text: str) -> float:
    """Share of Chinese characters among Chinese characters plus Latin words."""
    cjk = len(_CJK.findall(text))
    # A Latin word weighs like ~2 Chinese characters (a typical word's share of meaning).
    latin = 2 * len(_LATIN_WORD.findall(text))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def detect_lang(text: str) -> str:
    """``"zh"``, ``"en"`` or ``"mixed"`` (both scripts carry real content)."""
    r = cjk_ratio(text)
    if r >= 0.8:
        return "zh"
    if r <= 0.2:
        return "en"
    return "mixed"


def reply_lang(text: str) -> str:
    """``"zh"`` or ``"en"``: the language a reply to ``text`` is written in (any Chinese wins, so a
    Chinese entry full of Latin names — "Apple Pay", "Visa" — is Chinese)."""
    return "zh" if detect_lang(text) in ("zh", "mixed") and _CJK.search(text) else "en"


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    # Built once per process and direction: loading the tables takes a few milliseconds.
    return opencc.OpenCC(config)


def _folded(text: str) -> str | None:
    """``text`` folded to Simplified when it is written in Traditional, else ``None``."""
    # Japanese kanji are not Traditional Chinese: 人間と話す stays as written.
    if not _CJK.search(text) or _KANA.search(text):
        return None
    convert = _converter("t2s").convert
    folded = str(convert(text))
    # The phrase tables also rewrite some Simplified text (打坏 becomes 打坯, a Traditional phrase
    # for making adobe bricks): fold only a message with a character that is Traditional alone.
    if len(folded) == len(text) and all(a == b or convert(a) == a for a, b in zip(text, folded, strict=True)):
        return None
    return folded


def simplified(text: str) -> str:
    """``text`` with Traditional Chinese characters folded to Simplified (other scripts unchanged)."""
    return _folded(text) or text


def writes_traditional(text: str) -> bool:
    """Whether ``text`` has a character that is Traditional Chinese on its own (唔該, not 唔该)."""
    return _folded(text) is not None


def traditional(text: str) -> str:
    """``text`` with Simplified Chinese written in Traditional characters (the reply to a customer
    who writes Traditional): OpenCC's ``s2tw``, the character forms in everyday use (為, not the
    dictionary's 爲), without changing any word."""
    return str(_converter("s2tw").convert(text)) if _CJK.search(text) else text


def in_script_of(customer: str, reply: str) -> str:
    """``reply``'s Chinese in the script the ``customer``'s message is written in: Traditional
    for a customer who writes Traditional, else Simplified (the one place that choice is made)."""
    return traditional(reply) if writes_traditional(customer) else simplified(reply)
