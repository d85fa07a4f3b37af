"""Intent or mention? Small English and Chinese cues for :class:`~parley.bots.tags.InterestTagger`.

Embedding similarity finds the *topic* of a message, not what the customer wants done about it:
"the pool was freezing again" and "do you have a pool?" are both about the pool.  A business's hard
cases for interest tags are service and problem messages about a tag's topic, so two cues from the
shape of the sentence (not from any business's words) adjust a tag's score:

* :func:`problem_cue` — the message reports a fault, a failure, a complaint or undoes a purchase
  (broken, missing, refund, cancel; 坏了, 没收到, 退款, 取消).  Someone reporting a problem with a
  thing rarely shows interest in it: the tagger lowers every tag's score, except for tags that are
  themselves about ending or problems (see :func:`ending_cue`).
* :func:`want_cue` — the message asks to get, join or buy something, or says it wants it (I'd like,
  looking for, do you offer, sign up, how much; 想, 有没有, 怎么开通, 多少钱).  The tagger raises
  scores a little.  A problem cue wins over a want cue ("I want a refund" is a problem).

The word lists are general language, written once; they are meant to stay short and readable
rather than to catch everything.
"""

from __future__ import annotations

import re

from parley.bots.trouble import trouble_cues

__all__ = ["ending_cue", "problem_cue", "want_cue"]

# Beyond the trouble itself (parley.bots.trouble): complaint words and undoing a purchase.
_PROBLEM_EN = re.compile(
    r"\bcancel(?:l?ed|l?ing|s)?\b|\brefund|\bcharged\b|\bcomplain|\bdisappoint|\bterrible\b|\bawful\b|"
    r"\bhorrible\b|\bworst\b|\brude\b|\bunacceptable\b|\bridiculous\b|\bpoor\b|"
    r"\b(?:was|is|were|are|been|be) closed\b|\bclosed (?:early|today|on|when|at)\b",
    re.IGNORECASE,
)
_PROBLEM_ZH = (
    "取消", "退款", "退钱", "退费", "扣款", "投诉", "失望", "太差", "很差", "差劲", "垃圾", "态度差", "不满",
    "关门", "停用", "出问题", "有问题",
)  # fmt: skip

_WANT_EN = re.compile(
    "|".join(
        [
            r"\bwant(?:s|ed)? (?:to|a|an|some|the|my|our)\b",
            r"\bwanna\b",
            r"\b(?:i|we)'?d like\b",
            r"\bwould like\b",
            r"\binterested\b",
            r"\blooking (?:for|into|at)\b",
            r"\bthinking (?:of|about)\b",
            r"\bconsidering\b",
            r"\bplanning\b",
            r"\bplan to\b",
            r"\bkeen\b",
            r"\bsign(?: me| us)? ?-?up\b",
            r"\bjoin\b",
            r"\bsubscribe\b",
            r"\bbuy\b",
            r"\bpurchase\b",
            r"\bapply for\b",
            r"\bdo you (?:have|offer|sell|do|organi[sz]e|provide|run)\b",
            r"\bis there (?:a|an|any)\b",
            r"\bare there any\b",
            r"\bany (?:\w+ )?(?:options?|plans?|packages?|deals?|discounts?)\b",
            r"\bcan (?:i|we) (?:get|have|buy|book|order|add|upgrade|switch)\b",
            r"\bhow (?:do|can) (?:i|we) (?:get|join|buy|sign|book|order|apply|upgrade|start|switch)\b",
            r"\brecommend\b",
            r"\bhow much\b",
            r"\bpric(?:e|es|ing)\b",
            r"\bquote\b",
            r"\btrial\b",
            r"\bneed (?:a|an|some)\b",
        ]
    ),
    re.IGNORECASE,
)
# "I want to know ...", "not interested", "don't want": asking or declining, not wanting.
_NOT_WANT_EN = re.compile(
    r"\bwant(?:s|ed)? to know\b|\b(?:don'?t|do not|doesn'?t|no longer|not|never) (?:want|interested|need)\w*",
    re.IGNORECASE,
)
# 想 "would like", but not 不想 "don't want" nor 想问 / 想知道 "I'd like to ask / know".
_WANT_ZH = re.compile(r"(?<!不)想(?!问|知道)")
_WANT_ZH_WORDS = (
    "打算", "考虑", "准备", "有没有", "有吗", "推荐", "怎么办理", "怎么开通", "怎么报名", "怎么申请",
    "怎么购买", "怎么订", "怎么买", "报名", "办理", "开通", "申请", "购买", "预订", "多少钱", "价格",
    "优惠", "感兴趣",
)  # fmt: skip

_ENDING_EN = re.compile(
    r"\bleav(?:e|ing)\b|\bstop(?:ped|ping)? using\b|\bquit\b|\bunsubscrib|\bcompetitor|\bchurn"
    r"|\bswitch(?:ing)? (?:to|over)\b|\bclose (?:my|our|the) account\b",
    re.IGNORECASE,
)
_ENDING_ZH = ("换成", "换别的", "不用了", "不续", "销户", "注销", "退订", "离开")


def problem_cue(text: str) -> bool:
    """Whether ``text`` reports trouble (:func:`~parley.bots.trouble.trouble_cues`), complains, or
    undoes a purchase."""
    return bool(trouble_cues(text) or _PROBLEM_EN.search(text)) or any(w in text for w in _PROBLEM_ZH)


def want_cue(text: str) -> bool:
    """Whether ``text`` asks to get, join or buy something or says it wants it (see the module)."""
    en = _NOT_WANT_EN.sub(" ", text)
    return bool(_WANT_EN.search(en) or _WANT_ZH.search(text)) or any(w in text for w in _WANT_ZH_WORDS)


def ending_cue(text: str) -> bool:
    """Whether ``text`` is about leaving, cancelling or switching away (a churn or close-account
    tag): such a tag expects problem language, so the tagger does not lower its score for it."""
    return bool(_ENDING_EN.search(text)) or any(w in text for w in _ENDING_ZH) or problem_cue(text)
