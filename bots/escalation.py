"""Escalating complaints: demands for a refund, compensation or someone in charge, and threats.

A complaint that demands something only staff can grant ("I want a partial refund", "我要求赔偿",
"fix this or we dispute it with the bank") must reach a human at once: the knowledge base can
only answer it with a policy passage, which reads as a brush-off.  Questions *about* the same
things stay with the bot: "what's your refund policy?", "do I get refunded for fraud charges?",
"航班晚点了有赔偿吗", "想投诉一下……先问下" — so the rules look for a *demand* (a first-person
want/demand/expect aimed at money back or escalation, an imperative "refund me", a deadline
"now/today/马上"), a threat (regulator, chargeback, review sites) or an accusation with anger
words, never for a topic word alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["EscalationDetector"]

_MONEY = (
    r"(?:(?:a|an|my|our|the|that|this|full|partial|some|complete|proper|immediate)\s+)*"
    r"(?:refund|compensation|reimbursement|money back|service credit|credit back|chargeback|apology)"
)
_EN = [
    ("demand", rf"\b(?:i|we)(?:'d| would)?\s+(?:want|demand|expect|insist on|require|need)\s+{_MONEY}"),
    (
        "demand",
        r"\b(?:want|demand)\s+(?:that|my|our|the|this)\s+(?:money|fee|charge)s?\s+(?:back|refunded|reversed|removed)",
    ),
    (
        "demand",
        r"\b(?:refund|reimburse|compensate)\s+(?:me|us|the difference|it|this|my|our)\b.*\b(?:now|today|immediately|asap)\b",
    ),
    ("demand", r"\b(?:give|pay)\s+(?:me|us)\s+(?:my|our|the)\s+money\s+back\b"),
    ("demand", r"\bfix (?:this|it)\b.{0,40}\b(?:now|today|immediately|asap|or)\b"),
    ("demand", r"\b(?:someone|somebody|a person)\s+(?:senior|in charge|higher up)\b"),
    (
        "threat",
        r"\b(?:dispute|disputing|report|reporting|complain|complaining)\s+(?:it|this|you|the charge)\s+(?:with|to)\s+(?:the|my|our)?\s*(?:bank|regulator|police|card company|authorities)",
    ),
    ("threat", r"\b(?:lawyer|legal action|sue you|small claims|consumer protection|trading standards)\b"),
    ("anger", r"\b(?:unacceptable|outrageous|disgraceful|ridiculous|a scam|scammed|rip[- ]?off)\b"),
    ("anger", r"\b(?:third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time\b"),
]
_ZH = [
    ("demand", r"(?:要求|必须|坚决要|一定要)[^，。！？,.!?]{0,8}(?:赔偿|退款|退钱|赔钱|补偿|道歉|处理|解决)"),
    ("demand", r"(?:马上|立刻|立即|赶紧|今天)[^，。！？,.!?]{0,4}(?:退钱|退款|赔偿|赔钱|给我退|处理)"),
    ("demand", r"给我退(?:钱|款)|把钱退(?:给我|回来)|(?:退钱|赔钱)[！!]"),
    ("demand", r"(?:负责人|领导|主管|经理)(?:来|出来|出面|跟我|给我)"),
    (
        "threat",
        r"我要投诉|要投诉你们|去[^，。！？,.!?]{0,8}投诉|投诉[^，。！？,.!?]{0,6}(?:没人管|没用|无果|不管)",
    ),
    ("threat", r"银保监|消协|消费者协会|12315|市场监管|报警|律师|起诉|曝光"),
    # A bad review is a threat when promised ("给你们差评", "就去打差评"), not when asked about
    # ("差评发出去了还能改吗", "给骑手的差评别人看得到吗").
    (
        "threat",
        r"(?:就|要|会|去|我)[^，。！？,.!?吗]{0,8}(?:给|打|写)[^，。！？,.!?吗]{0,4}差评(?![^，。！？,.!?]*[吗么])",
    ),
    ("anger", r"到底管不管|太过分|欺骗|骗子|坑人|忍无可忍|气死"),
]


@dataclass(frozen=True, slots=True)
class Escalation:
    """Whether to hand over, and which rule fired (``demand``, ``threat``, ``anger``)."""

    escalate: bool
    reason: str = ""


class EscalationDetector:
    """Finds complaints that demand a human (see the module docstring); rules only, no model.

    ``anger`` alone escalates only with a negative ``mood_score`` at or below ``anger_needs``
    and when the message is not a question ("is it ridiculous to ask ...?" is one).
    """

    def __init__(self, anger_needs: float = -1.0) -> None:
        self.anger_needs = anger_needs
        self._rules = [(kind, re.compile(p, re.I)) for kind, p in _EN + _ZH]

    def detect(self, text: str, mood_score: float = 0.0) -> Escalation:
        """Decide for one customer message; ``mood_score`` is the sentiment score (negative = upset)."""
        question = text.rstrip().endswith(("?", "？", "吗"))
        for kind, rule in self._rules:
            if rule.search(text) and (kind != "anger" or (mood_score <= self.anger_needs and not question)):
                return Escalation(True, kind)
        return Escalation(False)
