"""Cheap language detection for routing: Chinese, English (Latin script) or mixed."""

from __future__ import annotations

import re

__all__ = ["cjk_ratio", "detect_lang"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
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
