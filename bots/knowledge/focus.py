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

A message that opens by saying what it is *not* ("not a complaint, just asking: …", "no need for
a real person, …", 不是投诉哈，就想问…, 不用转人工，…) asks in the rest: the disclaimer's words
(complaint, person, 投诉) belong to other entries (session 19).
"""

from __future__ import annotations

import re

__all__ = ["asking_part", "without_disclaimer"]

_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？\n]*")
_EN_ASKS = re.compile(
    r"^\W*(?:(?:so|and|but|ok|also|just|right now|now)\W+)?"
    r"(?:how|when|what|what's|which|where|why|whether|can|could|will|would|do|does|did|is|are|should|may|any)\b",
    re.I,
)
_ZH_ASKS = re.compile(
    r"什么|多久|多长|怎么|怎样|如何|哪|能不能|能否|可不可以|是否|会不会|有没有|多少|几[天个点次]|[吗么呢]\s*[？?。]?\s*$"
)


_PERSON = r"(?:a |an |the )?(?:real |live |actual )?(?:person|human|agent|manager|staff|someone)"
_DISCLAIMER = re.compile(
    r"^\W*(?:(?:this is |it'?s |i'?m )?not (?:a complaint|complaining|trying to (?:make a )?complain\w*|"
    r"asking for a refund)|no need (?:for|to (?:talk|speak) to) " + _PERSON + r"|"
    r"i (?:don'?t|do not) (?:need|want) to (?:speak|talk) to " + _PERSON + r"|"
    r"i (?:don'?t|do not) want to (?:complain|make a complaint))(?: or anything)?"
    r"\s*[,.:;!\-\u2013\u2014]+\s*(?:but\s+)?"
    r"(?:(?:i'?m |i )?(?:just|only) (?:asking|curious|wondering|want to know|need to know(?: fast)?)\s*[,.:;!\-]*\s*)?"
    r"|^(?:我)?(?:不是(?:要)?投诉|(?:不用|唔使|唔洗|不需要)(?:帮我|幫我|给我|俾我)?[转轉]?(?:人工|真人))"
    r"[哈啊啦哦呀]?[，,。!！\s]*(?:我?(?:就是?|只是|只[係系]|只)想?(?:问|問|知道)(?:一?下|问|問)?[，,:：]?)?",
    re.I,
)


def without_disclaimer(text: str) -> str:
    """``text`` after an opening disclaimer ("not a complaint, just asking: …"); ``text`` itself
    when it has none, or is nothing but one."""
    disclaimer = _DISCLAIMER.match(text)
    if disclaimer is not None and disclaimer.end() < len(text.rstrip()):
        return text[disclaimer.end() :].strip()
    return text


def asking_part(text: str) -> str | None:
    """The sentences of ``text`` that ask, joined; ``None`` when that is the whole message."""
    rest = without_disclaimer(text)
    if rest != text:
        return asking_part(rest) or rest
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if len(sentences) < 2:
        return None
    asking = [s for s in sentences if s.endswith(("?", "？")) or _EN_ASKS.search(s) or _ZH_ASKS.search(s)]
    if not asking or len(asking) == len(sentences):
        return None
    return " ".join(asking)
