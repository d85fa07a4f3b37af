"""The asking part of a long message: the sentences that put the question.

A rambling message ("we just moved to the city … I booked a first visit … what do I need to
bring?") is embedded as a whole, and its story outweighs its question: the story's words match
other entries (the children's entry for "my husband's job", the porting entry for "I've been
with you three years").  Verbose-query reduction is an old fix in retrieval: score the
question sentences too.  Retrieval averages the two relevances per entry (whole message and
asking part), so the story still counts as context but no longer decides alone
(:mod:`.retrieval`, step 4; measured in docs/BOT_QUALITY.md, session 8).

A sentence asks when it ends in a question mark, opens with an English question word, or holds
a Chinese question word or a final 吗/么/呢.  A message of one sentence, or whose sentences all
ask, has no separate asking part.
"""

from __future__ import annotations

import re

__all__ = ["asking_part"]

_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？\n]*")
_EN_ASKS = re.compile(
    r"^\W*(?:(?:so|and|but|ok|also|just|right now|now)\W+)?"
    r"(?:how|when|what|what's|which|where|why|whether|can|could|will|would|do|does|did|is|are|should|may|any)\b",
    re.I,
)
_ZH_ASKS = re.compile(
    r"什么|多久|多长|怎么|怎样|如何|哪|能不能|能否|可不可以|是否|会不会|有没有|多少|几[天个点次]|[吗么呢]\s*[？?。]?\s*$"
)


def asking_part(text: str) -> str | None:
    """The sentences of ``text`` that ask, joined; ``None`` when that is the whole message."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if len(sentences) < 2:
        return None
    asking = [s for s in sentences if s.endswith(("?", "？")) or _EN_ASKS.search(s) or _ZH_ASKS.search(s)]
    if not asking or len(asking) == len(sentences):
        return None
    return " ".join(asking)
